/** Which rule caches an image, and the repository ECR keeps it in: ECR maps <prefix>/<rest> to <upstreamPrefix>/<rest>. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.js';
import {
  cacheRepositoryName,
  resolveImage,
  routeImage,
  upstreamRepositoryOf,
} from '../../../lib/config/images.js';
import { parseConfig } from '../../../lib/config/load.js';
import { KeeperError } from '../../../lib/runtime/errors.js';

const HUB = ['docker.io', 'registry-1.docker.io', 'index.docker.io'];
const rules = [
  { prefix: 'official', upstreamPrefix: 'library', pullHosts: HUB },
  { prefix: 'team', upstreamPrefix: 'acme/', pullHosts: HUB }, // the API allows the trailing slash
  { prefix: 'docker-hub', upstreamPrefix: 'ROOT', pullHosts: HUB },
  { prefix: 'quay', upstreamPrefix: 'ROOT', pullHosts: ['quay.io'] },
];

describe('routeImage and cacheRepositoryName', () => {
  it.each([
    // registry, upstream repository, rule, cache repository
    ['docker.io', 'library/node', 'official', 'official/node'],
    ['docker.io', 'acme/app', 'team', 'team/app'],
    ['docker.io', 'acme/tools/x', 'team', 'team/tools/x'],
    ['docker.io', 'bitnami/redis', 'docker-hub', 'docker-hub/bitnami/redis'],
    ['docker.io', 'libraryx/node', 'docker-hub', 'docker-hub/libraryx/node'],
    ['quay.io', 'prometheus/node-exporter', 'quay', 'quay/prometheus/node-exporter'],
  ])('%s/%s → rule %s, cache repository %s', (registry, repository, prefix, cache) => {
    const route = routeImage(rules, { registry, repository });
    if (!('rule' in route)) throw new Error(route.problem);
    expect(route.rule.prefix).toBe(prefix);
    const image = { rulePrefix: route.rule.prefix, upstreamPrefix: route.rule.upstreamPrefix, repository };
    expect(cacheRepositoryName(image)).toBe(cache);
    // and back: the upstream repository a cache repository of the rule stands for
    expect(upstreamRepositoryOf(route.rule, cache)).toBe(repository);
  });

  it('the first rule in the file that covers an image takes it', () => {
    const [official, , catchAll] = rules;
    expect(routeImage([catchAll!, official!], { registry: 'docker.io', repository: 'library/node' })).toEqual(
      {
        rule: catchAll,
      },
    );
  });

  it.each([
    ['ghcr.io', 'o/app', /^no rule caches registry "ghcr.io"$/, true],
    ['docker.io', 'bitnami/redis', /bitnami\/redis is outside .*rule official caches only library\/…/, false],
  ])('%s/%s: no rule, and why', (registry, repository, message, noRegistry) => {
    const route = routeImage(rules.slice(0, 1).concat(rules[3]!), { registry, repository });
    expect(route).toEqual({ problem: expect.stringMatching(message), noRegistry });
  });
});

describe('resolveImage: an image given outside the config (a command line, an event)', () => {
  const config = parseConfig(
    'rules: [{ prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }]\n',
    'keeper.config.yaml',
  );
  it('no rule for its registry: names the image and the registries the rules cache, and does not blame the config file', () => {
    let error = new Error('not thrown');
    try {
      resolveImage(config, 'quay.io/foo/bar:1');
    } catch (e) {
      error = e as Error;
    }
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(KeeperError);
    expect(error.message).toBe(
      'quay.io/foo/bar:1: no rule caches registry "quay.io" (the rules in keeper.config.yaml cache docker.io)',
    );
  });
});
