/**
 * Client configuration that makes `docker.io` resolve through the pull-through cache, for runners
 * and clusters where images keep their Docker Hub names (no rewriting of Dockerfiles or manifests).
 */
import type { DesiredRule, KeeperConfig } from '../config/load.js';
import { KeeperError } from '../runtime/errors.js';

export const MIRROR_CLIENTS = ['containers', 'containerd', 'buildkit', 'docker'] as const;
export type MirrorClient = (typeof MIRROR_CLIENTS)[number];

export interface MirrorConfig {
  client: MirrorClient;
  /** Where the client reads it from. */
  path: string;
  content: string;
}

/**
 * The rule that caches Docker Hub: the first that caches all of it (no upstream prefix), else the
 * first with one.
 */
export function dockerHubRule(config: KeeperConfig): DesiredRule {
  const rules = config.rules.filter((r) => r.upstream === 'docker-hub');
  const rule = rules.find((r) => r.upstreamPrefix === 'ROOT') ?? rules[0];
  if (!rule)
    throw new KeeperError(
      `${config.source}: no rule caches Docker Hub (upstream: docker-hub), so there is nothing to mirror docker.io to`,
    );
  return rule;
}

/** The rule a `docker.io` mirror points at: it must take every repository, as a mirror sends them all. */
function mirrorRule(config: KeeperConfig): DesiredRule {
  const rule = dockerHubRule(config);
  if (rule.upstreamPrefix !== 'ROOT')
    throw new KeeperError(
      `${config.source}: rule ${rule.prefix} caches only ${rule.upstreamPrefix.replace(/\/$/, '')}/… of Docker Hub, and a docker.io mirror sends every repository, by its full name, to the cache; add a Docker Hub rule without upstreamPrefix to mirror, or point builds at this one with cache-keeper rewrite`,
    );
  return rule;
}

const tomlString = (value: string) => JSON.stringify(value);

/** Where the rule's repositories live on the registry: `<host>/<prefix>`, or the host for ROOT. */
const mirrorLocation = (host: string, rule: DesiredRule) =>
  rule.prefix === 'ROOT' ? host : `${host}/${rule.prefix}`;

/**
 * containers-registries.conf(5), read by podman, buildah, skopeo and CRI-O: docker.io keeps its name
 * and is pulled from the mirror first (by tag and by digest), then from Docker Hub if the cache fails.
 */
function registriesConf(host: string, rule: DesiredRule, insecure: boolean): string {
  const location = mirrorLocation(host, rule);
  return [
    `# docker.io through the ECR pull-through cache (rule ${rule.prefix}), written by cache-keeper mirror-config.`,
    '# The client needs ECR credentials for the mirror host, e.g.',
    `#   aws ecr get-login-password | podman login --username AWS --password-stdin ${host}`,
    '# or the ECR credential helper (docker-credential-ecr-login) in its auth configuration.',
    '# Docker Hub names keep working (docker.io/library/node:22, node:22); only the source changes.',
    'unqualified-search-registries = ["docker.io"]',
    '',
    '[[registry]]',
    'prefix = "docker.io"',
    'location = "docker.io"',
    '',
    '[[registry.mirror]]',
    `location = ${tomlString(location)}`,
    'pull-from-mirror = "all"',
    ...(insecure ? ['insecure = true  # plain HTTP: only for a local test registry, never for ECR'] : []),
    '',
  ].join('\n');
}

/**
 * containerd's hosts.toml for docker.io (containerd 1.5 and later, the CRI's `config_path`, also
 * nerdctl and `ctr --hosts-dir`). The cache's repositories live under the rule's prefix, so the host
 * is the prefix's API root (`/v2/<prefix>`) with override_path: containerd then appends the
 * repository path to it as it is, instead of adding its own `/v2`.
 */
function containerdHosts(host: string, rule: DesiredRule, insecure: boolean): string {
  const scheme = insecure ? 'http' : 'https';
  const root = rule.prefix === 'ROOT' ? `${scheme}://${host}/v2` : `${scheme}://${host}/v2/${rule.prefix}`;
  return [
    `# docker.io through the ECR pull-through cache (rule ${rule.prefix}), written by cache-keeper mirror-config.`,
    '# Install as <config_path>/docker.io/hosts.toml (config_path is usually /etc/containerd/certs.d).',
    '# containerd needs ECR credentials for the host (the kubelet credential provider ecr-credential-provider,',
    '# or the ECR credential helper); images keep their Docker Hub names.',
    'server = "https://registry-1.docker.io"',
    '',
    `[host.${tomlString(root)}]`,
    '  capabilities = ["pull", "resolve"]',
    '  override_path = true',
    '',
  ].join('\n');
}

/** BuildKit's buildkitd.toml: a docker.io mirror may carry a /project path, here the rule's prefix. */
function buildkitd(host: string, rule: DesiredRule, insecure: boolean): string {
  const location = mirrorLocation(host, rule);
  return [
    `# docker.io through the ECR pull-through cache (rule ${rule.prefix}), written by cache-keeper mirror-config.`,
    '# Merge into buildkitd.toml (/etc/buildkit/buildkitd.toml, or `docker buildx create --config FILE`).',
    '# BuildKit needs ECR credentials for the host in the client’s Docker config (docker login or the',
    '# ECR credential helper); images keep their Docker Hub names.',
    '[registry."docker.io"]',
    `  mirrors = [${tomlString(location)}]`,
    ...(insecure
      ? [`[registry.${tomlString(host)}]`, '  http = true  # plain HTTP: only for a local test registry']
      : []),
    '',
  ].join('\n');
}

/** Docker Engine cannot mirror docker.io to a prefix: what to do instead, as a comment-only file. */
function dockerEngine(host: string, rule: DesiredRule): string {
  const why =
    rule.prefix === 'ROOT'
      ? [
          '# Docker Engine (dockerd): with the ROOT prefix a registry-mirrors entry could name the host, but how',
          '# dockerd authenticates to a mirror has not been verified against ECR here; use the ways below.',
        ]
      : [
          '# Docker Engine (dockerd) cannot pull docker.io through this cache as a mirror: its registry-mirrors',
          '# setting takes a host with no path (dockerd refuses "invalid mirror: path, query, or fragment at end',
          `# of the URI"), and the cache's images live under the prefix "${rule.prefix}/".`,
        ];
  return [
    ...why,
    '# Instead:',
    `#   - rewrite the references: cache-keeper rewrite Dockerfile docker-compose.yml (pulls from ${mirrorLocation(host, rule)}/...)`,
    '#   - for docker build, use BuildKit with cache-keeper mirror-config --for buildkit',
    `#   - log in first either way: aws ecr get-login-password | docker login --username AWS --password-stdin ${host}`,
    '',
  ].join('\n');
}

export function mirrorConfig(
  config: KeeperConfig,
  client: MirrorClient,
  options: { registryHost: string; insecure?: boolean },
): MirrorConfig {
  const rule = mirrorRule(config);
  switch (client) {
    case 'containers':
      return {
        client,
        path: '/etc/containers/registries.conf (or ~/.config/containers/registries.conf)',
        content: registriesConf(options.registryHost, rule, options.insecure ?? false),
      };
    case 'containerd':
      return {
        client,
        path: '/etc/containerd/certs.d/docker.io/hosts.toml',
        content: containerdHosts(options.registryHost, rule, options.insecure ?? false),
      };
    case 'buildkit':
      return {
        client,
        path: '/etc/buildkit/buildkitd.toml',
        content: buildkitd(options.registryHost, rule, options.insecure ?? false),
      };
    case 'docker':
      return {
        client,
        path: '(none: Docker Engine cannot use it)',
        content: dockerEngine(options.registryHost, rule),
      };
  }
}
