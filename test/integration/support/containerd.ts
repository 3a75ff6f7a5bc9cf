/**
 * A containerd daemon of the test's own (Debian's package `containerd`), with its root, state and
 * socket in a temp dir and the CRI plugin off: what `ctr` pulls through, as a node would. Without
 * the binary the tests that need it are skipped with a message; under CI (`CI=true`) it must be
 * there (`.ci/run` installs it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function containerdAvailable(): boolean {
  const found = spawnSync('sh', ['-c', 'command -v containerd && command -v ctr']).status === 0;
  if (!found && process.env.CI === 'true')
    throw new Error('containerd is required under CI (.ci/run installs it: apt-get install containerd)');
  if (!found)
    console.warn('skipping the containerd tests: containerd not found (apt-get install containerd)');
  return found;
}

export interface Containerd {
  address: string;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-containerd-'));
  const address = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const daemon: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !existsSync(address); i++) await sleep(50);
  if (!existsSync(address)) {
    daemon.kill();
    throw new Error('containerd did not start');
  }
  return {
    address,
    async stop() {
      daemon.kill();
      await new Promise((resolve) => daemon.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
