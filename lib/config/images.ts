/** Images as people write them for `docker pull`, mapped onto the cache. */
import { ConfigError } from './errors.js';
import { parseImageRef } from './image-ref.js';
import type { KeeperConfig, PrewarmImage } from './load.js';

/** Resolves an image as written for `docker pull` against the config's rules. */
export function resolveImage(config: KeeperConfig, text: string): PrewarmImage {
  const ref = parseImageRef(text);
  const rule = config.rules.find((r) => r.pullHosts.includes(ref.registry));
  if (!rule) {
    throw new ConfigError(config.source, [
      { path: 'image', message: `no rule caches registry "${ref.registry}" (for ${text})` },
    ]);
  }
  return { ...ref, rulePrefix: rule.prefix, platforms: config.prewarm.platforms };
}

/** The repository name inside ECR for a cached image: `<prefix>/<upstream repository>`. */
export function cacheRepositoryName(image: Pick<PrewarmImage, 'rulePrefix' | 'repository'>): string {
  return image.rulePrefix === 'ROOT' ? image.repository : `${image.rulePrefix}/${image.repository}`;
}
