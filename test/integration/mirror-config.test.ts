/**
 * The registries.conf that `cache-keeper mirror-config --for containers` prints, used for real:
 * Debian's skopeo, with that file as its only registries configuration and ECR credentials from the
 * sandbox, resolves docker.io/library/node:22-alpine, and quay.io/prometheus/node-exporter (a Quay
 * rule beside the Docker Hub one, Quay played by a stand-in), through the sandbox's cache. Each
 * upstream counts the pulls of the first copy and none of the second (the cache serves it). And
 * `--for containerd --out DIR` writes each registry's hosts.toml in place, which a containerd of the
 * test's own (Debian's package) reads: `ctr content fetch` of docker.io and quay.io images reaches
 * the cache (the upstreams themselves are out of reach), and a wrong hosts.toml fails it.
 * Skipped with a message when skopeo or containerd is not installed; required under CI (.ci/run
 * installs them).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { cacheLogin } from './support/cache-login.js';
import { containerdAvailable, startContainerd } from './support/containerd.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const available = spawnSync('skopeo', ['--version']).status === 0;
if (!available && process.env.CI === 'true')
  throw new Error('skopeo is required under CI (.ci/run installs it)');
if (!available) console.warn('mirror-config: skopeo not installed, the real-client test is skipped');
const withContainerd = containerdAvailable();

/** The shipped config with a Quay rule added. */
const WITH_QUAY = (() => {
  const path = join(mkdtempSync(join(tmpdir(), 'keeper-mirror-config-')), 'keeper.config.yaml');
  writeFileSync(
    path,
    readFileSync('keeper.config.yaml', 'utf8').replace(
      /^rules:\n/m,
      'rules:\n  - { prefix: quay, upstream: quay }\n',
    ),
  );
  return path;
})();

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ upstreamStandIns: ['quay.io'] });
  sandbox.standIns['quay.io']!.publish('prometheus/node-exporter', 'v1.9.0');
  await reconcile(sandboxDeps(sandbox).aws, loadConfig(WITH_QUAY));
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
    'used by skopeo, pulls docker.io and quay.io images through the cache',
    async () => {
      const kit = sandboxDeps(sandbox);
      const dir = mkdtempSync(join(tmpdir(), 'keeper-mirror-'));
      // The configuration exactly as the command prints it (registry host from the sandbox's ECR).
      const printed = captureIo();
      expect(
        await runCli(
          ['mirror-config', '--for', 'containers', '--insecure', '--config', WITH_QUAY],
          printed.io,
          kit.cli,
        ),
      ).toBe(0);
      const conf = join(dir, 'registries.conf');
      writeFileSync(conf, `${printed.out.join('\n')}\n`);
      // ECR credentials for the mirror host, as `podman login` or the credential helper would store them.
      const auth = (await kit.aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
      const host = new URL(auth.proxyEndpoint!).host;
      const authFile = join(dir, 'auth.json');
      writeFileSync(authFile, JSON.stringify({ auths: { [host]: { auth: auth.authorizationToken } } }));

      const copy = (n: number, image = 'docker.io/library/node:22-alpine') =>
        promisify(execFile)('skopeo', [
          '--registries-conf',
          conf,
          'copy',
          '--all',
          '--src-authfile',
          authFile,
          `docker://${image}`,
          `dir:${join(dir, `copy-${n}`)}`,
        ]);
      const before = sandbox.hub.pulls.length;
      await copy(1);
      const first = sandbox.hub.pulls.length - before;
      await copy(2);
      const second = sandbox.hub.pulls.length - before - first;
      expect(first, 'the first copy came through the cache from Docker Hub').toBeGreaterThan(0);
      expect(second, 'the second copy was served by the cache').toBe(0);

      const quay = sandbox.standIns['quay.io']!;
      const quayBefore = quay.pulls.length;
      await copy(3, 'quay.io/prometheus/node-exporter:v1.9.0');
      const quayFirst = quay.pulls.length - quayBefore;
      await copy(4, 'quay.io/prometheus/node-exporter:v1.9.0');
      expect(quayFirst, 'the first copy came through the cache from Quay').toBeGreaterThan(0);
      expect(quay.pulls.length - quayBefore - quayFirst, 'the second copy was served by the cache').toBe(0);
      expect(readdirSync(join(dir, 'copy-4'))).toContain('manifest.json');
    },
    60_000,
  );
});

describe('mirror-config --for containerd --out DIR', () => {
  it('writes each registry’s hosts.toml in its directory, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-certs-d-'));
    const argv = ['mirror-config', '--for', 'containerd', '--registry', 'r.example', '--config', WITH_QUAY];
    const run = captureIo();
    expect(await runCli([...argv, '--out', dir], run.io)).toBe(0);
    expect(run.out).toEqual([`wrote ${dir}/quay.io/hosts.toml`, `wrote ${dir}/docker.io/hosts.toml`]);
    expect(readdirSync(dir).sort()).toEqual(['docker.io', 'quay.io']);
    expect(readdirSync(join(dir, 'quay.io'))).toEqual(['hosts.toml']);
    expect(parseToml(readFileSync(join(dir, 'quay.io/hosts.toml'), 'utf8'))).toEqual({
      server: 'https://quay.io',
      host: { 'https://r.example/v2/quay': { capabilities: ['pull', 'resolve'], override_path: true } },
    });
    // Run again: the same files, replaced whole.
    expect(await runCli([...argv, '--out', dir], captureIo().io)).toBe(0);
    expect(readdirSync(join(dir, 'docker.io'))).toEqual(['hosts.toml']);
  });

  it('writes none of the files when one cannot be written, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-certs-d-'));
    // docker.io's directory cannot be made (a file is in the way); quay.io's could.
    writeFileSync(join(dir, 'docker.io'), 'not a directory');
    const argv = ['mirror-config', '--for', 'containerd', '--registry', 'r.example', '--config', WITH_QUAY];
    await expect(runCli([...argv, '--out', dir], captureIo().io)).rejects.toThrow(/docker\.io/);
    expect(readdirSync(dir).sort()).toEqual(['docker.io', 'quay.io']);
    expect(readdirSync(join(dir, 'quay.io'))).toEqual([]);
  });

  it('without --out prints each file under its path; --out is refused for a one-file client', async () => {
    const printed = captureIo();
    expect(
      await runCli(
        ['mirror-config', '--for', 'containerd', '--registry', 'r.example', '--config', WITH_QUAY],
        printed.io,
      ),
    ).toBe(0);
    const text = printed.out.join('\n');
    expect(text).toMatch(/^# ==> \/etc\/containerd\/certs\.d\/quay\.io\/hosts\.toml <==$/m);
    expect(text).toMatch(/^# ==> \/etc\/containerd\/certs\.d\/docker\.io\/hosts\.toml <==$/m);
    expect(printed.err.join('\n')).toMatch(/2 files.*--out \/etc\/containerd\/certs\.d writes them in place/);

    const refused = captureIo();
    expect(
      await runCli(
        ['mirror-config', '--for', 'containers', '--registry', 'r.example', '--out', '/tmp/x'],
        refused.io,
      ),
    ).toBe(2);
    expect(refused.err.join('\n')).toMatch(/--out takes containerd's certs\.d directory/);
  });
});

describe('mirror-config --for containerd, read by containerd', () => {
  it.skipIf(!withContainerd)(
    'ctr, with the hosts.toml files the command writes, fetches docker.io and quay.io images through the cache',
    async () => {
      const kit = sandboxDeps(sandbox);
      const hostsDir = mkdtempSync(join(tmpdir(), 'keeper-certs-d-'));
      // The files exactly as the command writes them (registry host from the sandbox's ECR, plain HTTP).
      const written = captureIo();
      const argv = [
        'mirror-config',
        '--for',
        'containerd',
        '--insecure',
        '--config',
        WITH_QUAY,
        '--out',
        hostsDir,
      ];
      expect(await runCli(argv, written.io, kit.cli)).toBe(0);
      // ECR's credentials, as a node's credential provider would hand them to containerd.
      const { creds: user } = await cacheLogin(kit.aws.ecr);

      const containerd = await startContainerd();
      try {
        const fetch = (image: string) =>
          promisify(execFile)(
            'ctr',
            [
              '--address',
              containerd.address,
              'content',
              'fetch',
              '--hosts-dir',
              hostsDir,
              '--user',
              user,
              image,
            ],
            { timeout: 60_000 },
          );
        // Docker Hub itself is out of reach: only the mirror can answer.
        const before = sandbox.hub.pulls.length;
        await fetch('docker.io/library/busybox:1.36');
        const first = sandbox.hub.pulls.length - before;
        await fetch('docker.io/library/busybox:1.36');
        expect(first, 'the first fetch came through the cache from Docker Hub').toBeGreaterThan(0);
        expect(sandbox.hub.pulls.length - before - first, 'the second was served by the cache').toBe(0);
        expect(sandbox.ecr.repositories.has('docker-hub/library/busybox')).toBe(true);

        // A Quay tag nothing has pulled yet (the skopeo test above pulled v1.9.0).
        const quay = sandbox.standIns['quay.io']!;
        quay.publish('prometheus/node-exporter', 'v1.9.1');
        const quayBefore = quay.pulls.length;
        await fetch('quay.io/prometheus/node-exporter:v1.9.1');
        expect(quay.pulls.length - quayBefore, 'the Quay image came through the cache').toBeGreaterThan(0);
      } finally {
        await containerd.stop();
      }
    },
    120_000,
  );
});
