/**
 * The registries.conf that `cache-keeper mirror-config --for containers` prints, used for real:
 * Debian's skopeo, with that file as its only registries configuration and ECR credentials from the
 * sandbox, resolves docker.io/library/node:22-alpine through the sandbox's cache. The sandbox's
 * Docker Hub counts the pulls of the first copy and none of the second (the cache serves it).
 * Skipped with a message when skopeo is not installed; required under CI (.ci/run installs it).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const available = spawnSync('skopeo', ['--version']).status === 0;
if (!available && process.env.CI === 'true')
  throw new Error('skopeo is required under CI (.ci/run installs it)');
if (!available) console.warn('mirror-config: skopeo not installed, the real-client test is skipped');

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
  await reconcile(sandboxDeps(sandbox).aws, loadConfig('keeper.config.yaml'));
});
afterAll(async () => {
  await sandbox?.stop();
});

describe('mirror-config --for containers', () => {
  it('names the cache as the docker.io mirror at the Docker Hub rule’s prefix', async () => {
    const run = captureIo();
    expect(await runCli(['mirror-config', '--for', 'containers', '--registry', 'r.example'], run.io)).toBe(0);
    const text = run.out.join('\n');
    expect(text).toMatch(/^\[\[registry\]\]\nprefix = "docker.io"\nlocation = "docker.io"$/m);
    expect(text).toMatch(
      /^\[\[registry.mirror\]\]\nlocation = "r.example\/docker-hub"\npull-from-mirror = "all"$/m,
    );
    expect(text).not.toMatch(/insecure/);
  });

  it('refuses a client it does not know, exit 2', async () => {
    const run = captureIo();
    expect(await runCli(['mirror-config', '--for', 'podman'], run.io)).toBe(2);
    expect(run.err.join('\n')).toMatch(/--for takes containers, containerd, buildkit, docker, not "podman"/);
  });

  it.skipIf(!available)(
    'used by skopeo, pulls docker.io images through the cache',
    async () => {
      const kit = sandboxDeps(sandbox);
      const dir = mkdtempSync(join(tmpdir(), 'keeper-mirror-'));
      // The configuration exactly as the command prints it (registry host from the sandbox's ECR).
      const printed = captureIo();
      expect(await runCli(['mirror-config', '--for', 'containers', '--insecure'], printed.io, kit.cli)).toBe(
        0,
      );
      const conf = join(dir, 'registries.conf');
      writeFileSync(conf, `${printed.out.join('\n')}\n`);
      // ECR credentials for the mirror host, as `podman login` or the credential helper would store them.
      const auth = (await kit.aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
      const host = new URL(auth.proxyEndpoint!).host;
      const authFile = join(dir, 'auth.json');
      writeFileSync(authFile, JSON.stringify({ auths: { [host]: { auth: auth.authorizationToken } } }));

      const copy = (n: number) =>
        promisify(execFile)('skopeo', [
          '--registries-conf',
          conf,
          'copy',
          '--all',
          '--src-authfile',
          authFile,
          'docker://docker.io/library/node:22-alpine',
          `dir:${join(dir, `copy-${n}`)}`,
        ]);
      const before = sandbox.hub.pulls.length;
      await copy(1);
      const first = sandbox.hub.pulls.length - before;
      await copy(2);
      const second = sandbox.hub.pulls.length - before - first;
      expect(first, 'the first copy came through the cache from Docker Hub').toBeGreaterThan(0);
      expect(second, 'the second copy was served by the cache').toBe(0);
    },
    60_000,
  );
});
