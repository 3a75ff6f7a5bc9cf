/** The sandbox's optional state directory: what one run cached is still cached after a restart. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { startSandbox } from '../../sandbox/index.js';
import { sandboxDeps } from './support/sandbox-deps.js';

it('restores rules, secrets, cached images, blobs and Docker Hub state after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-sandbox-state-'));
  const config = loadConfig('keeper.config.yaml');
  const images = config.prewarm.images.slice(0, 3);

  const first = await startSandbox({ stateDir: dir });
  const firstKit = sandboxDeps(first, config);
  await reconcile(firstKit.aws, config);
  await runPrewarm(images, { ...firstKit.deps, deadline: Date.now() + 60_000 });
  const pulls = first.hub.pulls.length;
  await first.stop();

  const second = await startSandbox({ stateDir: dir });
  const secondKit = sandboxDeps(second, config);
  try {
    expect(second.seeded).toBeUndefined();
    expect([...second.ecr.rules.keys()]).toEqual(['docker-hub']);
    expect(second.hub.pulls).toHaveLength(pulls);
    const plan = await reconcile(secondKit.aws, config, { dryRun: true });
    expect(plan.plan.changes).toEqual([]);
    const again = await runPrewarm(images, { ...secondKit.deps, deadline: Date.now() + 60_000 });
    expect(again.counts).toMatchObject({ skipped: 3, failed: 0 });
    expect(second.hub.pulls).toHaveLength(pulls);
  } finally {
    await second.stop();
  }
});
