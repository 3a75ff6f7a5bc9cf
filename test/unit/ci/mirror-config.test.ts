import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { mirrorConfig } from '../../../lib/ci/mirror-config.js';
import { parseConfig } from '../../../lib/config/load.js';

const shipped = readFileSync('keeper.config.yaml', 'utf8');

describe('mirror-config', () => {
  it.each([
    ['docker-hub', 'r.example/docker-hub'],
    ['ROOT', 'r.example'],
    ['team/hub', 'r.example/team/hub'],
  ])('a Docker Hub rule with prefix %s mirrors docker.io at %s', (prefix, location) => {
    const config = parseConfig(shipped.replace('prefix: docker-hub', `prefix: ${prefix}`));
    const out = mirrorConfig(config, 'containers', { registryHost: 'r.example' });
    expect(out.content).toContain(`[[registry.mirror]]\nlocation = "${location}"\n`);
  });

  it('mirrors docker.io to the rule that caches all of Docker Hub, not to one limited to an upstream prefix', () => {
    const both = parseConfig(`rules:
  - { prefix: official, upstream: docker-hub, upstreamPrefix: library, credentialSecret: ecr-pullthroughcache/docker-hub }
  - { prefix: hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }
`);
    expect(mirrorConfig(both, 'containers', { registryHost: 'r.example' }).content).toContain(
      '[[registry.mirror]]\nlocation = "r.example/hub"\n',
    );
    // Only a prefixed rule: a docker.io mirror would send every repository to it, so none is written.
    const onlyOfficial = parseConfig(`rules:
  - { prefix: official, upstream: docker-hub, upstreamPrefix: library, credentialSecret: ecr-pullthroughcache/docker-hub }
`);
    for (const client of ['containers', 'containerd', 'buildkit'] as const)
      expect(() => mirrorConfig(onlyOfficial, client, { registryHost: 'r.example' })).toThrow(
        /rule official caches only library\/… of Docker Hub.*cache-keeper rewrite/,
      );
  });

  it('says which file names the config when no rule caches Docker Hub', () => {
    const config = parseConfig(shipped, 'ci.yaml');
    const withoutHub = { ...config, rules: config.rules.filter((r) => r.upstream !== 'docker-hub') };
    expect(() => mirrorConfig(withoutHub, 'containers', { registryHost: 'r.example' })).toThrow(
      /^ci\.yaml: no rule caches Docker Hub/,
    );
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
      const out = mirrorConfig(config, 'containerd', { registryHost: 'r.example', insecure });
      // Parsed as TOML, the documented keys of containerd's hosts.toml and nothing else.
      expect(parseToml(out.content)).toEqual({
        server: 'https://registry-1.docker.io',
        host: { [root]: { capabilities: ['pull', 'resolve'], override_path: true } },
      });
      expect(out.path).toBe('/etc/containerd/certs.d/docker.io/hosts.toml');
    },
  );

  it('the registries.conf parses as TOML too', () => {
    const parsed = parseToml(mirrorConfig(config, 'containers', { registryHost: 'r.example' }).content);
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
    expect(parseToml(out.content)).toEqual({
      registry: { 'docker.io': { mirrors: ['r.example/docker-hub'] } },
    });
    expect(
      parseToml(mirrorConfig(config, 'buildkit', { registryHost: 'r.example', insecure: true }).content),
    ).toEqual({
      registry: { 'docker.io': { mirrors: ['r.example/docker-hub'] }, 'r.example': { http: true } },
    });
  });

  it('docker: says why dockerd cannot mirror to a prefix, and what to do instead; configures nothing', () => {
    const out = mirrorConfig(config, 'docker', { registryHost: 'r.example' });
    expect(parseToml(out.content)).toEqual({});
    expect(out.content).toMatch(/invalid mirror: path, query, or fragment/);
    expect(out.content).toMatch(/cache-keeper rewrite/);
    expect(out.content).toMatch(/--for buildkit/);
  });
});
