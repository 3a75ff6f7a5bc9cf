/** cache-keeper mirror-config --for CLIENT: docker.io through the cache, without rewriting image names. */
import { MIRROR_CLIENTS, type MirrorClient, mirrorConfig } from '../../lib/ci/mirror-config.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { type CommandDeps, registryHost } from '../deps.js';
import type { CliIo } from '../io.js';

export async function mirrorConfigCommand(
  config: KeeperConfig,
  io: CliIo,
  options: { client?: string; registry?: string; insecure: boolean; json: boolean; deps: () => CommandDeps },
): Promise<number> {
  if (!MIRROR_CLIENTS.includes(options.client as MirrorClient)) {
    io.err(
      `cache-keeper mirror-config: --for takes ${MIRROR_CLIENTS.join(', ')}${options.client ? `, not "${options.client}"` : ''}`,
    );
    return 2;
  }
  const out = mirrorConfig(config, options.client as MirrorClient, {
    registryHost: await registryHost(options),
    insecure: options.insecure,
  });
  if (options.json) io.out(JSON.stringify(out, null, 2));
  else io.out(out.content.trimEnd());
  return 0;
}
