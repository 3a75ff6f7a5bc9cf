/**
 * cache-keeper mirror-config --for CLIENT: the registries the cache covers (docker.io, quay.io, …)
 * pulled through it, without rewriting image names.
 */
import { join } from 'node:path';
import { MIRROR_CLIENTS, type MirrorClient, mirrorConfig } from '../../lib/ci/mirror-config.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { type CommandDeps, registryHost } from '../deps.js';
import { type CliIo, writeFilesWhole } from '../io.js';

const CERTS_D = '/etc/containerd/certs.d';

export async function mirrorConfigCommand(
  config: KeeperConfig,
  io: CliIo,
  options: {
    client?: string;
    registry?: string;
    insecure: boolean;
    json: boolean;
    /** (containerd) the certs.d directory to write each `<registry>/hosts.toml` into. */
    out?: string;
    deps: () => CommandDeps;
  },
): Promise<number> {
  if (!MIRROR_CLIENTS.includes(options.client as MirrorClient)) {
    io.err(
      `cache-keeper mirror-config: --for takes ${MIRROR_CLIENTS.join(', ')}${options.client ? `, not "${options.client}"` : ''}`,
    );
    return 2;
  }
  if (options.out !== undefined && options.client !== 'containerd') {
    io.err(
      `cache-keeper mirror-config: --out takes containerd's certs.d directory; --for ${options.client} prints one file, to redirect where it belongs`,
    );
    return 2;
  }
  const out = mirrorConfig(config, options.client as MirrorClient, {
    registryHost: await registryHost(options),
    insecure: options.insecure,
  });
  for (const n of out.notMirrored) io.err(`not mirrored: ${n.registry}: ${n.reason}`);
  if (out.caution) io.err(`caution: ${out.caution}`);
  if (options.out !== undefined) {
    const outDir = options.out;
    const files = out.files.map((f) => ({ path: join(outDir, f.registry!, 'hosts.toml'), text: f.content }));
    // All or none: a directory it may not write leaves the installed ones as they were.
    writeFilesWhole(files, { makeDirs: true });
    if (!options.json) for (const f of files) io.out(`wrote ${f.path}`);
  }
  if (options.json) io.out(JSON.stringify(out, null, 2));
  else if (options.out !== undefined) return 0;
  else if (out.files.length === 1) io.out(out.files[0]!.content.trimEnd());
  else {
    // containerd's one file per registry: each under its path; --out writes them in place.
    io.err(
      `cache-keeper mirror-config: ${out.files.length} files, each under its path below; --out ${CERTS_D} writes them in place`,
    );
    io.out(out.files.map((f) => `# ==> ${f.path} <==\n${f.content.trimEnd()}`).join('\n\n'));
  }
  return 0;
}
