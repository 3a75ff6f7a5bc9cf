/** cache-keeper ci-snippet --for github-actions|gitlab|buildkite: log in to the cache and pull through it. */

import { dockerHubRule } from '../../lib/ci/mirror-config.js';
import { CI_SYSTEMS, type CiSystem, ciSnippet } from '../../lib/ci/snippet.js';
import { cacheRepositoryName, resolveImage } from '../../lib/config/images.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { type CommandDeps, registryHost } from '../deps.js';
import type { CliIo } from '../io.js';

export async function ciSnippetCommand(
  config: KeeperConfig,
  io: CliIo,
  options: { system?: string; registry?: string; json: boolean; deps: () => CommandDeps },
): Promise<number> {
  if (!CI_SYSTEMS.includes(options.system as CiSystem)) {
    io.err(
      `cache-keeper ci-snippet: --for takes ${CI_SYSTEMS.join(', ')}${options.system ? `, not "${options.system}"` : ''}`,
    );
    return 2;
  }
  const host = await registryHost(options);
  // The example pulls the first configured image of the Docker Hub rule.
  const rule = dockerHubRule(config);
  const first =
    config.prewarm.images.find((i) => i.rulePrefix === rule.prefix) ?? resolveImage(config, 'node:22');
  const example = `${host}/${cacheRepositoryName(first)}:${first.tag}`;
  const snippet = ciSnippet(options.system as CiSystem, { registryHost: host, example });
  if (options.json) io.out(JSON.stringify({ system: options.system, snippet }, null, 2));
  else io.out(snippet.trimEnd());
  return 0;
}
