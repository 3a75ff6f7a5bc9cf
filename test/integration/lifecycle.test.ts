/**
 * The creation template's lifecycle policy and the nightly pre-warm, night after night on the
 * sandbox, whose ECR executes lifecycle policies as the ECR guide describes them: a multi-platform
 * image is an index and one manifest per platform, and what the policy expires the next night must
 * pull again from Docker Hub.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type KeeperConfig, parseConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const MULTI = { platforms: ['linux/amd64', 'linux/arm64'] };
let sandbox: Sandbox;

beforeEach(async () => {
  sandbox = await startSandbox();
  for (const tag of ['18-alpine', '20-alpine']) sandbox.hub.publish('library/node', tag, MULTI);
});
afterEach(() => sandbox.stop());

/** The shipped config with four tags of one multi-platform repository on the list. */
const config = () =>
  parseConfig(
    readFileSync('keeper.config.yaml', 'utf8').replace(
      / {2}images:\n( {4}- .*\n)+/,
      '  images: [node:18-alpine, node:20-alpine, node:22-alpine, node:24-alpine]\n',
    ),
  );

/** Reconciles the config as the stack's role, and gives its nightly pre-warm, as the prewarm role. */
async function reconciled(keeper: KeeperConfig) {
  const kit = sandboxDeps(sandbox, keeper);
  expect((await reconcile(kit.as('reconcile'), keeper)).result.ok).toBe(true);
  return () =>
    runPrewarm(keeper.prewarm.images, {
      ...kit.as('prewarm'),
      config: keeper,
      deadline: Date.now() + 600_000,
    });
}

describe('the template’s lifecycle policy, night after night', () => {
  it('keeps every listed tag of a multi-platform repository: the next night pulls nothing', async () => {
    const keeper = config();
    const night = await reconciled(keeper);
    expect((await night()).counts.warmed).toBe(4);
    // ECR runs the policy within a day; by then the platform manifests are days old too.
    sandbox.clock.advanceHours(49);
    sandbox.ecr.runLifecyclePolicies();
    const pullsBefore = sandbox.hub.pulls.length;
    const second = await night();
    expect(second.counts.failed).toBe(0);
    expect(second.images.map((i) => i.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(sandbox.hub.pulls.length - pullsBefore).toBe(0);
  });

  it("drops a moved tag's previous digest, platforms and all, a week later; never the current one", async () => {
    const keeper = config();
    const night = await reconciled(keeper);
    await night();
    const repo = () => sandbox.ecr.repositories.get('docker-hub/library/node')!;
    const before = repo().tagToDigest.get('22-alpine')!;
    sandbox.hub.release('library/node', '22-alpine');
    sandbox.clock.advanceHours(25);
    expect((await night()).images.find((i) => i.image === 'node:22-alpine')!.status).toBe('warmed');
    const after = repo().tagToDigest.get('22-alpine')!;
    expect(after).not.toBe(before);
    sandbox.clock.advanceHours(24 * 3);
    sandbox.ecr.runLifecyclePolicies();
    expect(repo().images.has(before)).toBe(true); // untagged for 3 days: kept
    sandbox.clock.advanceHours(24 * 5);
    const expired = sandbox.ecr.runLifecyclePolicies().get('docker-hub/library/node')!.expired;
    expect(expired).toContain(before);
    expect(expired).toHaveLength(3); // the index and its two platform manifests
    expect(repo().images.has(after)).toBe(true);
    expect([...repo().tagToDigest.keys()].sort()).toEqual([
      '18-alpine',
      '20-alpine',
      '22-alpine',
      '24-alpine',
    ]);
  });

  it('two weeks of nights with releases: each night pulls only what was released, and no repository grows without bound', async () => {
    const keeper = parseConfig(readFileSync('keeper.config.yaml', 'utf8'));
    const night = await reconciled(keeper);
    expect((await night()).counts.failed).toBe(0);
    const listed = keeper.prewarm.images;
    for (let day = 1; day <= 14; day++) {
      // One listed image released upstream a day, in turn.
      const released = listed[day % listed.length]!;
      sandbox.hub.release(released.repository, released.tag);
      sandbox.clock.advanceHours(24);
      sandbox.ecr.runLifecyclePolicies();
      const pullsBefore = sandbox.hub.pulls.length;
      const report = await night();
      const statuses = Object.fromEntries(report.images.map((i) => [i.image, i.status]));
      expect(statuses[released.original], `day ${day}`).toBe('warmed');
      expect(
        Object.values(statuses).filter((s) => s !== 'skipped'),
        `day ${day}`,
      ).toEqual(['warmed']);
      expect(sandbox.hub.pulls.length - pullsBefore, `day ${day}`).toBe(
        report.images.find((i) => i.status === 'warmed')!.upstreamPulls,
      );
    }
    // A repository holds its listed tags' images and at most a week of leftovers from releases.
    for (const repo of sandbox.ecr.repositories.values())
      expect(repo.images.size, repo.name).toBeLessThanOrEqual(12);
  });
});
