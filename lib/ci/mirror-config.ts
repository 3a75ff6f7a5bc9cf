/**
 * Client configuration that makes the registries the cache covers (docker.io, quay.io,
 * registry.k8s.io, ghcr.io, …) resolve through the pull-through cache, for runners and clusters
 * where images keep their upstream names (no rewriting of Dockerfiles or manifests).
 */
import { registryName } from '../config/images.js';
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import { KeeperError } from '../runtime/errors.js';

export const MIRROR_CLIENTS = ['containers', 'containerd', 'buildkit', 'docker'] as const;
export type MirrorClient = (typeof MIRROR_CLIENTS)[number];

/** One file to install. */
export interface MirrorFile {
  /** Where the client reads it from. */
  path: string;
  content: string;
  /** containerd's files: the registry whose directory under certs.d it goes in. */
  registry?: string;
}

/** A registry pulled through the cache: its name as images carry it, and where the cache serves it. */
export interface Mirror {
  registry: string;
  rule: string;
  location: string;
}

export interface MirrorConfig {
  client: MirrorClient;
  mirrors: Mirror[];
  /** Registries a rule caches that a mirror cannot cover, and why (use `cache-keeper rewrite` for them). */
  notMirrored: Array<{ registry: string; rule: string; reason: string }>;
  files: MirrorFile[];
  /** What can make the configuration pull around the cache without a word (said on stderr too). */
  caution?: string;
}

/** The upstream a containerd hosts.toml names as its server: registry-1.docker.io for docker.io. */
const serverOf = (rule: DesiredRule) =>
  rule.upstream === 'docker-hub' ? 'https://registry-1.docker.io' : `https://${rule.upstreamUrl}`;

/** Where the rule's repositories live on the registry: `<host>/<prefix>`, or the host for ROOT. */
const mirrorLocation = (host: string, rule: DesiredRule) =>
  rule.prefix === 'ROOT' ? host : `${host}/${rule.prefix}`;

/**
 * Per registry a rule caches, the rule a mirror points at: a mirror sends every repository by its
 * full name, so only a rule that takes all of the registry (no upstream prefix) will do; the first
 * such rule in the config. A registry only prefixed rules cover is not mirrored, with why.
 */
function mirrorRules(config: KeeperConfig): {
  rules: DesiredRule[];
  notMirrored: MirrorConfig['notMirrored'];
} {
  const rules: DesiredRule[] = [];
  const notMirrored: MirrorConfig['notMirrored'] = [];
  const registries = [...new Set(config.rules.map(registryName))];
  for (const registry of registries) {
    const covering = config.rules.filter((r) => registryName(r) === registry);
    const whole = covering.find((r) => r.upstreamPrefix === 'ROOT');
    if (whole) {
      rules.push(whole);
      continue;
    }
    const rule = covering[0]!;
    notMirrored.push({
      registry,
      rule: rule.prefix,
      reason: `rule ${rule.prefix} caches only ${rule.upstreamPrefix.replace(/\/$/, '')}/… of ${rule.upstream === 'docker-hub' ? 'Docker Hub' : registry}, and a ${registry} mirror sends every repository, by its full name, to the cache; add a ${rule.upstream} rule without upstreamPrefix to mirror it, or point builds at this one with cache-keeper rewrite`,
    });
  }
  return { rules, notMirrored };
}

const tomlString = (value: string) => JSON.stringify(value);

const header = (what: string) =>
  `# ${what} through the ECR pull-through cache, written by cache-keeper mirror-config.`;

/**
 * containers-registries.conf(5), read by podman, buildah, skopeo and CRI-O: each registry keeps its
 * name and is pulled from the mirror first (by tag and by digest), then from upstream if the cache
 * fails.
 */
function registriesConf(host: string, rules: DesiredRule[], insecure: boolean): string {
  const hub = rules.some((r) => r.upstream === 'docker-hub');
  return [
    header(rules.map(registryName).join(', ')),
    '# The client needs ECR credentials for the mirror host, e.g.',
    `#   aws ecr get-login-password | podman login --username AWS --password-stdin ${host}`,
    '# or the ECR credential helper (docker-credential-ecr-login) in its auth configuration',
    "# (CRI-O: from its auth file; the kubelet's credentials are for the image's own registry and never go",
    '# to a mirror).',
    '# Image names keep working as they are (docker.io/library/node:22, node:22, quay.io/…); only the',
    '# source changes.',
    ...(hub ? ['unqualified-search-registries = ["docker.io"]'] : []),
    ...rules.flatMap((rule) => [
      '',
      `# rule ${rule.prefix}`,
      '[[registry]]',
      `prefix = ${tomlString(registryName(rule))}`,
      `location = ${tomlString(registryName(rule))}`,
      '',
      '[[registry.mirror]]',
      `location = ${tomlString(mirrorLocation(host, rule))}`,
      'pull-from-mirror = "all"',
      ...(insecure ? ['insecure = true  # plain HTTP: only for a local test registry, never for ECR'] : []),
    ]),
    '',
  ].join('\n');
}

/**
 * containerd's hosts.toml for one registry (containerd 1.5 and later, the CRI's `config_path`, also
 * nerdctl and `ctr --hosts-dir`). The cache's repositories live under the rule's prefix, so the host
 * is the prefix's API root (`/v2/<prefix>`) with override_path: containerd then appends the
 * repository path to it as it is, instead of adding its own `/v2`.
 */
function containerdHosts(host: string, rule: DesiredRule, insecure: boolean): string {
  const scheme = insecure ? 'http' : 'https';
  const root = rule.prefix === 'ROOT' ? `${scheme}://${host}/v2` : `${scheme}://${host}/v2/${rule.prefix}`;
  const registry = registryName(rule);
  return [
    `${header(registry)} Rule ${rule.prefix}.`,
    `# Install as <config_path>/${registry}/hosts.toml (config_path is usually /etc/containerd/certs.d).`,
    `# Images keep their ${registry} names. Credentials: containerd sends a host only credentials it holds`,
    "# for that host itself. On Kubernetes the kubelet hands it credentials for the image's own registry",
    `# (${registry}), never the cache's, so ECR refuses the mirror and containerd falls back to the server`,
    '# below: pulls keep working but bypass the cache. There, name images by the cache (cache-keeper',
    "# rewrite; the kubelet's ECR credential provider covers those names). Elsewhere the client must pass",
    `# credentials for ${host} (an ECR token lasts 12 hours). Check that pulls reach the cache.`,
    `server = ${tomlString(serverOf(rule))}`,
    '',
    `[host.${tomlString(root)}]`,
    '  capabilities = ["pull", "resolve"]',
    '  override_path = true',
    '',
  ].join('\n');
}

/** BuildKit's buildkitd.toml: a registry's mirror may carry a /project path, here the rule's prefix. */
function buildkitd(host: string, rules: DesiredRule[], insecure: boolean): string {
  return [
    header(rules.map(registryName).join(', ')),
    '# Merge into buildkitd.toml (/etc/buildkit/buildkitd.toml, or `docker buildx create --config FILE`).',
    '# BuildKit needs ECR credentials for the host in the client’s Docker config (docker login or the',
    '# ECR credential helper); images keep their names.',
    ...rules.flatMap((rule) => [
      `[registry.${tomlString(registryName(rule))}]  # rule ${rule.prefix}`,
      `  mirrors = [${tomlString(mirrorLocation(host, rule))}]`,
    ]),
    ...(insecure
      ? [`[registry.${tomlString(host)}]`, '  http = true  # plain HTTP: only for a local test registry']
      : []),
    '',
  ].join('\n');
}

/** Docker Engine cannot mirror docker.io to a prefix: what to do instead, as a comment-only file. */
function dockerEngine(host: string, rule: DesiredRule | undefined, others: DesiredRule[]): string {
  const why = !rule
    ? [
        '# Docker Engine (dockerd) mirrors only docker.io (registry-mirrors), and no rule here caches all of',
        '# Docker Hub; it has no setting that sends other registries to a mirror.',
      ]
    : rule.prefix === 'ROOT'
      ? [
          '# Docker Engine (dockerd): with the ROOT prefix a registry-mirrors entry could name the host, but how',
          '# dockerd authenticates to a mirror has not been verified against ECR here; use the ways below.',
        ]
      : [
          '# Docker Engine (dockerd) cannot pull docker.io through this cache as a mirror: its registry-mirrors',
          '# setting takes a host with no path (dockerd refuses "invalid mirror: path, query, or fragment at end',
          `# of the URI"), and the cache's images live under the prefix "${rule.prefix}/".`,
        ];
  const where = [...(rule ? [rule] : []), ...others].map((r) => `${mirrorLocation(host, r)}/...`).join(', ');
  return [
    ...why,
    ...(others.length
      ? [
          `# ${others.map(registryName).join(', ')}: dockerd has no mirror setting for registries other than docker.io.`,
        ]
      : []),
    '# Instead:',
    `#   - rewrite the references: cache-keeper rewrite Dockerfile docker-compose.yml (pulls from ${where})`,
    '#   - for docker build, use BuildKit with cache-keeper mirror-config --for buildkit',
    `#   - log in first either way: aws ecr get-login-password | docker login --username AWS --password-stdin ${host}`,
    '',
  ].join('\n');
}

/**
 * The client's configuration for every registry a rule caches whole; one file, except containerd's
 * one hosts.toml per registry. Fails, naming the config, when no registry can be mirrored.
 */
export function mirrorConfig(
  config: KeeperConfig,
  client: MirrorClient,
  options: { registryHost: string; insecure?: boolean },
): MirrorConfig {
  const { rules, notMirrored } = mirrorRules(config);
  const host = options.registryHost;
  const insecure = options.insecure ?? false;
  if (!rules.length)
    throw new KeeperError(
      notMirrored.length
        ? `${config.source}: ${notMirrored.map((n) => n.reason).join('; ')}`
        : `${config.source}: no rule caches a registry, so there is nothing to mirror`,
    );
  const mirrors = rules.map((rule) => ({
    registry: registryName(rule),
    rule: rule.prefix,
    location: mirrorLocation(host, rule),
  }));
  const result = (files: MirrorFile[], covered = mirrors, caution?: string): MirrorConfig => ({
    client,
    mirrors: covered,
    notMirrored,
    files,
    ...(caution ? { caution } : {}),
  });
  switch (client) {
    case 'containers':
      return result([
        {
          path: '/etc/containers/registries.conf (or ~/.config/containers/registries.conf)',
          content: registriesConf(host, rules, insecure),
        },
      ]);
    case 'containerd':
      return result(
        rules.map((rule) => ({
          path: `/etc/containerd/certs.d/${registryName(rule)}/hosts.toml`,
          registry: registryName(rule),
          content: containerdHosts(host, rule, insecure),
        })),
        mirrors,
        `containerd sends the cache no credentials unless it holds some for ${host} itself: on Kubernetes the kubelet's credentials are for the image's own registry (${mirrors.map((m) => m.registry).join(', ')}), so ECR refuses the mirror and containerd pulls from ${rules.some((r) => r.upstream === 'docker-hub') ? 'Docker Hub' : 'upstream'} instead, spending its limit as before; name images by the cache there (cache-keeper rewrite), and check that a pull reached the cache (cache-keeper suggest)`,
      );
    case 'buildkit':
      return result([{ path: '/etc/buildkit/buildkitd.toml', content: buildkitd(host, rules, insecure) }]);
    case 'docker': {
      const hub = rules.find((r) => r.upstream === 'docker-hub');
      return result(
        [
          {
            path: '(none: Docker Engine cannot use it)',
            content: dockerEngine(
              host,
              hub,
              rules.filter((r) => r !== hub),
            ),
          },
        ],
        [],
      );
    }
  }
}
