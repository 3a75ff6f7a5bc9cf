/** Images as people write them for `docker pull`, mapped onto the cache. */
import { KeeperError } from '../runtime/errors.js';
import { type ImageRef, parseImageRef } from './image-ref.js';
import type { DesiredRule, KeeperConfig, PrewarmImage } from './load.js';

/** What mapping an image onto the cache needs of a rule. */
export type RoutingRule = Pick<DesiredRule, 'prefix' | 'upstreamPrefix' | 'pullHosts'>;

/** The name images carry for a rule's registry: docker.io for Docker Hub, else its host (quay.io, …). */
export const registryName = (rule: Pick<DesiredRule, 'pullHosts' | 'upstreamUrl'>) =>
  rule.pullHosts[0] ?? rule.upstreamUrl;

/** `library/` → `library`: the API accepts the prefix with or without its trailing slash. */
const bare = (upstreamPrefix: string) => upstreamPrefix.replace(/\/$/, '');

/**
 * The rule that caches an upstream image: the first in the file that serves its registry and, if the
 * rule has an upstream prefix, whose prefix the repository falls under (ECR maps the cache repository
 * `<prefix>/<rest>` to the upstream `<upstreamPrefix>/<rest>`, so nothing outside that prefix can go
 * through the rule). Else why none does.
 */
export function routeImage<R extends RoutingRule>(
  rules: readonly R[],
  ref: Pick<ImageRef, 'registry' | 'repository'>,
): { rule: R } | { problem: string; noRegistry: boolean } {
  const serving = rules.filter((r) => r.pullHosts.includes(ref.registry));
  if (serving.length === 0) return { problem: `no rule caches registry "${ref.registry}"`, noRegistry: true };
  const rule = serving.find(
    (r) => r.upstreamPrefix === 'ROOT' || ref.repository.startsWith(`${bare(r.upstreamPrefix)}/`),
  );
  if (rule) return { rule };
  const prefixes = serving.map((r) => `rule ${r.prefix} caches only ${bare(r.upstreamPrefix)}/…`).join(', ');
  return {
    problem: `${ref.repository} is outside the upstream prefix of every rule for ${ref.registry} (${prefixes})`,
    noRegistry: false,
  };
}

/** An image given outside the config (a command line, an event) that no rule of it caches. */
export class UncachedImageError extends KeeperError {
  override name = 'UncachedImageError';
  constructor(
    readonly image: string,
    /** Why, without the image's name: for a caller that names it already. */
    readonly problem: string,
  ) {
    super(`${image}: ${problem}`);
  }
}

/**
 * Resolves an image as written for `docker pull` against the config's rules. The config's own list
 * is checked at load (with its paths); an image from elsewhere that no rule caches is named itself.
 */
export function resolveImage(config: KeeperConfig, text: string): PrewarmImage {
  const ref = parseImageRef(text);
  const route = routeImage(config.rules, ref);
  if ('problem' in route) {
    const cached = [...new Set(config.rules.map(registryName))].join(', ');
    throw new UncachedImageError(text, `${route.problem} (the rules in ${config.source} cache ${cached})`);
  }
  return {
    ...ref,
    rulePrefix: route.rule.prefix,
    upstreamPrefix: route.rule.upstreamPrefix,
    platforms: config.prewarm.platforms,
  };
}

/**
 * The repository name inside ECR for a cached image: `<prefix>/<upstream repository>`, less the
 * rule's upstream prefix when it has one (`library/node` under prefix `official` with upstream
 * prefix `library` is `official/node`).
 */
export function cacheRepositoryName(
  image: Pick<PrewarmImage, 'rulePrefix' | 'upstreamPrefix' | 'repository'>,
): string {
  const rest =
    image.upstreamPrefix === 'ROOT'
      ? image.repository
      : image.repository.slice(bare(image.upstreamPrefix).length + 1);
  return image.rulePrefix === 'ROOT' ? rest : `${image.rulePrefix}/${rest}`;
}

/** The upstream repository a cache repository of the rule stands for: the inverse of cacheRepositoryName. */
export function upstreamRepositoryOf(
  rule: Pick<DesiredRule, 'prefix' | 'upstreamPrefix'>,
  cacheRepository: string,
): string {
  const rest = rule.prefix === 'ROOT' ? cacheRepository : cacheRepository.slice(rule.prefix.length + 1);
  return rule.upstreamPrefix === 'ROOT' ? rest : `${bare(rule.upstreamPrefix)}/${rest}`;
}
