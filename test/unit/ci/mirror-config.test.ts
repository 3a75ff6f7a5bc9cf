import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { mirrorConfig } from '../../../lib/ci/mirror-config.js';
import { parseConfig } from '../../../lib/config/load.js';

const shipped = readFileSync('keeper.config.yaml', 'utf8');
const only = (out: ReturnType<typeof mirrorConfig>) => {
  expect(out.files).toHaveLength(1);
  return out.files[0]!;
};

/** Docker Hub, Quay and registry.k8s.io cached whole; GHCR only under one organisation. */
const SEVERAL = parseConfig(`rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }
  - { prefix: quay, upstream: quay }
  - { prefix: k8s, upstream: k8s }
  - { prefix: ghcr-acme, upstream: ghcr, upstreamPrefix: acme, credentialSecret: ecr-pullthroughcache/ghcr }
`);

describe('mirror-config', () => {
  it.each([
    ['docker-hub', 'r.example/docker-hub'],
    ['ROOT', 'r.example'],
    ['team/hub', 'r.example/team/hub'],
  ])('a Docker Hub rule with prefix %s mirrors docker.io at %s', (prefix, location) => {
    const config = parseConfig(shipped.replace('prefix: docker-hub', `prefix: ${prefix}`));
    const out = mirrorConfig(config, 'containers', { registryHost: 'r.example' });
    expect(only(out).content).toContain(`[[registry.mirror]]\nlocation = "${location}"\n`);
    expect(out.mirrors).toEqual([{ registry: 'docker.io', rule: prefix, location }]);
  });

  it('mirrors docker.io to the rule that caches all of Docker Hub, not to one limited to an upstream prefix', () => {
    const both = parseConfig(`rules:
  - { prefix: official, upstream: docker-hub, upstreamPrefix: library, credentialSecret: ecr-pullthroughcache/docker-hub }
  - { prefix: hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }
`);
    const out = mirrorConfig(both, 'containers', { registryHost: 'r.example' });
    expect(only(out).content).toContain('[[registry.mirror]]\nlocation = "r.example/hub"\n');
    expect(out.notMirrored).toEqual([]);
    // Only a prefixed rule: a docker.io mirror would send every repository to it, so none is written.
    const onlyOfficial = parseConfig(`rules:
  - { prefix: official, upstream: docker-hub, upstreamPrefix: library, credentialSecret: ecr-pullthroughcache/docker-hub }
`);
    for (const client of ['containers', 'containerd', 'buildkit'] as const)
      expect(() => mirrorConfig(onlyOfficial, client, { registryHost: 'r.example' })).toThrow(
        /rule official caches only library\/… of Docker Hub.*cache-keeper rewrite/,
      );
  });

  it('says which file names the config when no rule caches anything', () => {
    const config = parseConfig(shipped, 'ci.yaml');
    expect(() => mirrorConfig({ ...config, rules: [] }, 'containers', { registryHost: 'r.example' })).toThrow(
      /^ci\.yaml: no rule caches a registry/,
    );
  });
});

describe('mirror-config with several registries', () => {
  const locations = [
    { registry: 'docker.io', rule: 'docker-hub', location: 'r.example/docker-hub' },
    { registry: 'quay.io', rule: 'quay', location: 'r.example/quay' },
    { registry: 'registry.k8s.io', rule: 'k8s', location: 'r.example/k8s' },
  ];

  it.each(['containers', 'containerd', 'buildkit'] as const)(
    '%s: every registry a rule caches whole, and why ghcr.io (one organisation) is not mirrored',
    (client) => {
      const out = mirrorConfig(SEVERAL, client, { registryHost: 'r.example' });
      expect(out.mirrors).toEqual(locations);
      expect(out.notMirrored).toEqual([
        {
          registry: 'ghcr.io',
          rule: 'ghcr-acme',
          reason: expect.stringMatching(
            /^rule ghcr-acme caches only acme\/… of ghcr\.io, and a ghcr\.io mirror/,
          ),
        },
      ]);
      for (const file of out.files) expect(file.content).not.toContain('ghcr');
    },
  );

  it('containers: one registries.conf with a [[registry]] and its mirror per registry', () => {
    expect(
      parseToml(only(mirrorConfig(SEVERAL, 'containers', { registryHost: 'r.example' })).content),
    ).toEqual({
      'unqualified-search-registries': ['docker.io'],
      registry: locations.map(({ registry, location }) => ({
        prefix: registry,
        location: registry,
        mirror: [{ location, 'pull-from-mirror': 'all' }],
      })),
    });
  });

  it('containers: without a Docker Hub rule, short names are left to the client’s own search list', () => {
    const quay = parseConfig('rules:\n  - { prefix: quay, upstream: quay }\n');
    const parsed = parseToml(only(mirrorConfig(quay, 'containers', { registryHost: 'r.example' })).content);
    expect(parsed).not.toHaveProperty('unqualified-search-registries');
    expect(parsed.registry).toEqual([
      {
        prefix: 'quay.io',
        location: 'quay.io',
        mirror: [{ location: 'r.example/quay', 'pull-from-mirror': 'all' }],
      },
    ]);
  });

  it('containerd: one hosts.toml per registry, in its certs.d directory, with its upstream as server', () => {
    const out = mirrorConfig(SEVERAL, 'containerd', { registryHost: 'r.example' });
    expect(out.files.map((f) => [f.path, f.registry, parseToml(f.content)])).toEqual([
      [
        '/etc/containerd/certs.d/docker.io/hosts.toml',
        'docker.io',
        {
          server: 'https://registry-1.docker.io',
          host: {
            'https://r.example/v2/docker-hub': { capabilities: ['pull', 'resolve'], override_path: true },
          },
        },
      ],
      [
        '/etc/containerd/certs.d/quay.io/hosts.toml',
        'quay.io',
        {
          server: 'https://quay.io',
          host: { 'https://r.example/v2/quay': { capabilities: ['pull', 'resolve'], override_path: true } },
        },
      ],
      [
        '/etc/containerd/certs.d/registry.k8s.io/hosts.toml',
        'registry.k8s.io',
        {
          server: 'https://registry.k8s.io',
          host: { 'https://r.example/v2/k8s': { capabilities: ['pull', 'resolve'], override_path: true } },
        },
      ],
    ]);
  });

  it('buildkit: a mirror per registry, each with its rule prefix as the path', () => {
    expect(parseToml(only(mirrorConfig(SEVERAL, 'buildkit', { registryHost: 'r.example' })).content)).toEqual(
      {
        registry: {
          'docker.io': { mirrors: ['r.example/docker-hub'] },
          'quay.io': { mirrors: ['r.example/quay'] },
          'registry.k8s.io': { mirrors: ['r.example/k8s'] },
        },
      },
    );
  });

  it('docker: names the registries dockerd cannot mirror at all, and where rewrite points them', () => {
    const out = mirrorConfig(SEVERAL, 'docker', { registryHost: 'r.example' });
    expect(out.mirrors).toEqual([]);
    const text = only(out).content;
    expect(parseToml(text)).toEqual({});
    expect(text).toMatch(/quay\.io, registry\.k8s\.io: dockerd has no mirror setting/);
    expect(text).toContain('r.example/docker-hub/..., r.example/quay/..., r.example/k8s/...');
  });
});

describe('mirror-config --for containerd', () => {
  const config = parseConfig(shipped);
  it.each([
    [false, 'https://r.example/v2/docker-hub'],
    [true, 'http://r.example/v2/docker-hub'],
  ])(
    'insecure %s: a hosts.toml whose one host is the prefix’s API root, with override_path',
    (insecure, root) => {
      const file = only(mirrorConfig(config, 'containerd', { registryHost: 'r.example', insecure }));
      // Parsed as TOML, the documented keys of containerd's hosts.toml and nothing else.
      expect(parseToml(file.content)).toEqual({
        server: 'https://registry-1.docker.io',
        host: { [root]: { capabilities: ['pull', 'resolve'], override_path: true } },
      });
      expect(file.path).toBe('/etc/containerd/certs.d/docker.io/hosts.toml');
    },
  );

  it('says that Kubernetes gives a mirror no ECR credentials, and that containerd then pulls from Docker Hub unseen', () => {
    // containerd sends a host only credentials whose server address is that host, and the kubelet
    // hands over credentials for the image's own registry; the next host is the server line.
    const out = mirrorConfig(config, 'containerd', { registryHost: 'r.example' });
    expect(out.caution).toMatch(
      /^containerd sends the cache no credentials unless it holds some for r\.example itself: on Kubernetes the kubelet's credentials are for the image's own registry \(docker\.io\), so ECR refuses the mirror and containerd pulls from Docker Hub instead, spending its limit as before; name images by the cache there \(cache-keeper rewrite\)/,
    );
    // The file's comments as one text, however they wrap.
    const text = only(out)
      .content.split('\n')
      .map((line) => line.replace(/^# ?/, ''))
      .join(' ');
    expect(text).not.toMatch(/kubelet credential provider ecr-credential-provider/);
    expect(text).toMatch(/falls back to the server below/);
    expect(text).toMatch(/cache-keeper rewrite/);
    for (const client of ['containers', 'buildkit', 'docker'] as const)
      expect(mirrorConfig(config, client, { registryHost: 'r.example' }).caution, client).toBeUndefined();
  });

  it('registries.conf says where CRI-O takes the mirror credentials from', () => {
    const text = only(mirrorConfig(config, 'containers', { registryHost: 'r.example' })).content;
    expect(text).toMatch(/CRI-O: from its auth file/);
  });

  it('the registries.conf parses as TOML too', () => {
    const parsed = parseToml(only(mirrorConfig(config, 'containers', { registryHost: 'r.example' })).content);
    expect(parsed).toEqual({
      'unqualified-search-registries': ['docker.io'],
      registry: [
        {
          prefix: 'docker.io',
          location: 'docker.io',
          mirror: [{ location: 'r.example/docker-hub', 'pull-from-mirror': 'all' }],
        },
      ],
    });
  });
});

describe('mirror-config --for buildkit and docker', () => {
  const config = parseConfig(shipped);
  it('buildkit: a docker.io mirror carrying the rule prefix as its /project path', () => {
    const out = mirrorConfig(config, 'buildkit', { registryHost: 'r.example' });
    expect(parseToml(only(out).content)).toEqual({
      registry: { 'docker.io': { mirrors: ['r.example/docker-hub'] } },
    });
    expect(
      parseToml(
        only(mirrorConfig(config, 'buildkit', { registryHost: 'r.example', insecure: true })).content,
      ),
    ).toEqual({
      registry: { 'docker.io': { mirrors: ['r.example/docker-hub'] }, 'r.example': { http: true } },
    });
  });

  it('docker: says why dockerd cannot mirror to a prefix, and what to do instead; configures nothing', () => {
    const text = only(mirrorConfig(config, 'docker', { registryHost: 'r.example' })).content;
    expect(parseToml(text)).toEqual({});
    expect(text).toMatch(/invalid mirror: path, query, or fragment/);
    expect(text).toMatch(/cache-keeper rewrite/);
    expect(text).toMatch(/--for buildkit/);
    expect(text).not.toMatch(/no mirror setting for registries other/);
  });
});
