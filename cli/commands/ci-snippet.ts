/**
 * cache-keeper ci-snippet --for github-actions|gitlab|buildkite|circleci|bitbucket|jenkins|azure-pipelines:
 * log in to the cache and pull through it; --for iam-policy: what the CI role must be allowed.
 */

import { type CiSystem, ciSnippet, registryPlace, SNIPPET_TARGETS } from '../../lib/ci/snippet.js';
import { ciRolePolicy } from '../../lib/config/access.js';
import { cacheRepositoryName, resolveImage } from '../../lib/config/images.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { type CommandDeps, registryHost } from '../deps.js';
import type { CliIo } from '../io.js';

/**
 * The image the snippet pulls: the first listed image of the Docker Hub rule (node:22 when none is
 * listed), else of any rule, else a placeholder under the first rule's prefix.
 */
function exampleImage(config: KeeperConfig, host: string): string {
  const hub = config.rules.find((r) => r.upstream === 'docker-hub');
  const first =
    config.prewarm.images.find((i) => i.rulePrefix === hub?.prefix) ??
    (hub ? resolveImage(config, 'node:22') : config.prewarm.images[0]);
  if (first) return `${host}/${cacheRepositoryName(first)}:${first.tag}`;
  const rule = config.rules[0];
  return `${host}/${rule && rule.prefix !== 'ROOT' ? `${rule.prefix}/` : ''}<repository>:<tag>`;
}

export async function ciSnippetCommand(
  config: KeeperConfig,
  io: CliIo,
  options: { system?: string; registry?: string; json: boolean; deps: () => CommandDeps },
): Promise<number> {
  if (!(SNIPPET_TARGETS as readonly string[]).includes(options.system ?? '')) {
    io.err(
      `cache-keeper ci-snippet: --for takes ${SNIPPET_TARGETS.join(', ')}${options.system ? `, not "${options.system}"` : ''}`,
    );
    return 2;
  }
  const host = await registryHost(options);
  if (options.system === 'iam-policy') {
    // The policy is JSON already: --json wraps it as the other snippets are wrapped.
    const policy = ciRolePolicy(
      config.rules.map((r) => r.prefix),
      registryPlace(host),
    );
    const snippet = JSON.stringify(policy, null, 2);
    io.out(options.json ? JSON.stringify({ system: options.system, snippet }, null, 2) : snippet);
    return 0;
  }
  const hub = config.rules.find((r) => r.upstream === 'docker-hub');
  const awsCli = hub && resolveImage(config, 'amazon/aws-cli:latest');
  const snippet = ciSnippet(options.system as CiSystem, {
    registryHost: host,
    example: exampleImage(config, host),
    awsCliImage: awsCli && `${host}/${cacheRepositoryName(awsCli)}:${awsCli.tag}`,
  });
  if (options.json) io.out(JSON.stringify({ system: options.system, snippet }, null, 2));
  else io.out(snippet.trimEnd());
  return 0;
}
