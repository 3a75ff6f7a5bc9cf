/**
 * A real client through the sandbox's cache: Debian's skopeo copies images through the ECR
 * registry endpoint (so the sandbox speaks the distribution protocol as a real client expects),
 * and, under the `get` model of ECR's 24-hour re-check, a nightly skopeo loop spends Docker Hub
 * pulls on unchanged images where the keeper spends none. Skipped with a message when skopeo is not
 * installed; required under CI (.ci/run installs it).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveImage } from '../../lib/config/images.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { cacheLogin } from './support/cache-login.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const available = spawnSync('skopeo', ['--version']).status === 0;
if (!available && process.env.CI === 'true')
  throw new Error('skopeo is required under CI (.ci/run installs it)');

const config = loadConfig('keeper.config.yaml');
const IMAGES = ['node:22-alpine', 'alpine:3.20', 'busybox:1.36'];
let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
});

/** `skopeo copy --all` from the cache, as CI pulling an image for every platform would. */
const copyFromCache = (creds: string, reference: string, destination: string) =>
  promisify(execFile)('skopeo', [
    'copy',
    '--all',
    '--src-tls-verify=false',
    '--src-creds',
    creds,
    `docker://${reference}`,
    destination,
  ]);

async function skopeoNight(s: Sandbox): Promise<void> {
  const { host, creds } = await cacheLogin(sandboxDeps(s, config).aws.ecr);
  const out = mkdtempSync(join(tmpdir(), 'skopeo-'));
  for (const [i, image] of IMAGES.entries()) {
    const [name, tag] = image.split(':');
    await copyFromCache(creds, `${host}/docker-hub/library/${name}:${tag}`, `dir:${join(out, String(i))}`);
  }
}

async function keeperNight(s: Sandbox) {
  const kit = sandboxDeps(s, config);
  const images = config.prewarm.images.filter((i) => IMAGES.includes(i.original));
  return runPrewarm(images, { ...kit.as('prewarm'), deadline: Date.now() + 120_000 });
}

describe.skipIf(!available)('skopeo through the cache', () => {
  it.each(['head', 'get'] as const)(
    'ECR re-check by %s: a nightly skopeo loop vs the keeper on the unchanged night',
    async (recheck) => {
      // skopeo's nights.
      sandbox = await startSandbox({ ecrRecheck: recheck });
      await reconcile(sandboxDeps(sandbox, config).aws, config);
      await skopeoNight(sandbox);
      const coldPulls = sandbox.hub.pulls.length;
      expect(coldPulls).toBeGreaterThan(0);
      sandbox.clock.advanceHours(25);
      const before = sandbox.hub.pulls.length;
      await skopeoNight(sandbox);
      const skopeoUnchanged = sandbox.hub.pulls.length - before;
      await sandbox.stop();

      // The keeper's nights, on a fresh sandbox of the same kind.
      sandbox = await startSandbox({ ecrRecheck: recheck });
      await reconcile(sandboxDeps(sandbox, config).aws, config);
      const cold = await keeperNight(sandbox);
      expect(cold.counts.warmed).toBe(IMAGES.length);
      expect(sandbox.hub.pulls.length).toBe(coldPulls);
      sandbox.clock.advanceHours(25);
      const keeperBefore = sandbox.hub.pulls.length;
      const unchanged = await keeperNight(sandbox);
      expect(unchanged.counts.skipped).toBe(IMAGES.length);
      expect(sandbox.hub.pulls.length - keeperBefore).toBe(0);
      // A HEAD re-check costs nothing; a GET re-check costs skopeo a pull per image manifest it re-fetches.
      if (recheck === 'head') expect(skopeoUnchanged).toBe(0);
      else expect(skopeoUnchanged).toBeGreaterThan(0);
    },
    60_000,
  );

  it('copies, platforms and build attestations alike, an image the keeper warmed for the configured platforms', async () => {
    sandbox = await startSandbox();
    sandbox.hub.publish('library/attested', '1', {
      platforms: ['linux/amd64', 'linux/arm64'],
      attestations: true,
    });
    const kit = sandboxDeps(sandbox, config);
    await reconcile(kit.aws, config);
    const image = resolveImage(config, 'library/attested:1');
    const warmed = await runPrewarm([image], { ...kit.as('prewarm'), deadline: Date.now() + 120_000 });
    expect(warmed.counts.warmed).toBe(1);
    const { host, creds } = await cacheLogin(kit.aws.ecr);
    const out = mkdtempSync(join(tmpdir(), 'skopeo-attested-'));
    await copyFromCache(creds, `${host}/docker-hub/library/attested:1`, `oci:${out}:attested`);
    // Every manifest of the index came through: two platforms and their two attestations.
    const blobs = readdirSync(join(out, 'blobs', 'sha256'));
    const manifests = blobs.filter((b) =>
      readFileSync(join(out, 'blobs', 'sha256', b), 'utf8').includes('"schemaVersion"'),
    );
    expect(manifests).toHaveLength(5);
  });
});

if (!available) it.skip('skopeo is not installed: skipped (required under CI=true)', () => {});
