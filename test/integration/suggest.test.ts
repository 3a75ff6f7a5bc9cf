/**
 * `suggest` end to end on the sandbox: a CI principal pulls images that are not on the pre-warm
 * list; ECR's record of pulls (lastRecordedPullTime) shows them, while the pre-warm role's own pulls,
 * registered as a pull-time update exclusion, never count. Both ways the sandbox can refresh the
 * recorded time (daily, as ECR documents at the least; every pull).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { afterEach, describe, expect, it } from 'vitest';
import { createPrewarmHandler } from '../../handlers/prewarm.js';
import { loadConfig } from '../../lib/config/load.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import { formatPrewarm } from '../../lib/prewarm/report.js';
import { runPrewarm } from '../../lib/prewarm/run.js';
import { formatSuggestions, suggestImages } from '../../lib/prewarm/suggest.js';
import { RegistryClient } from '../../lib/registry/client.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { guardrailPolicy } from '../support/guardrail.js';
import { lambdaContext } from '../support/lambda.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const LISTED = ['node:22-alpine', 'python:3.13-slim', 'alpine:3.20', 'busybox:1.36'];

function configWithList(extra = ''): string {
  const shipped = readFileSync('keeper.config.yaml', 'utf8');
  const path = join(mkdtempSync(join(tmpdir(), 'keeper-suggest-')), 'keeper.config.yaml');
  writeFileSync(
    path,
    shipped.replace(
      / {2}images:\n(?: {4}- .*\n)+/,
      `  images:\n${LISTED.map((i) => `    - ${i}\n`).join('')}${extra}`,
    ),
  );
  return path;
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
});

describe.each(['daily', 'every-pull'] as const)('suggest, pull time refreshed %s', (pullTimeRefresh) => {
  it('lists what CI pulls that is not listed, and listed images only the pre-warm role pulls', async () => {
    sandbox = await startSandbox({ pullTimeRefresh });
    const config = loadConfig(configWithList());
    expect(config.prewarm.images.map((i) => i.original)).toEqual(LISTED);
    const admin = sandboxDeps(sandbox, config);
    const prewarmRole = sandbox.iam.principal(
      sandbox.roleClientOptions('prewarm', config).credentials!.accessKeyId,
    )!.arn;
    await reconcile(admin.aws, config, { exclusionPrincipalArns: [prewarmRole] });
    expect([...sandbox.ecr.exclusions]).toContain(prewarmRole);

    const night = () =>
      runPrewarm(config.prewarm.images, {
        ...sandboxDeps(sandbox!, config).as('prewarm'),
        deadline: Date.now() + 60_000,
      });
    expect((await night()).counts.warmed).toBe(LISTED.length);

    // "CI" (another principal) pulls three images that are not on the list, and one that is.
    const auth = (await admin.aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    const ci = new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
    });
    for (const [repository, tag] of [
      ['docker-hub/library/redis', '7'],
      ['docker-hub/library/postgres', '17'],
      ['docker-hub/library/golang', '1.24'],
      ['docker-hub/library/node', '22-alpine'],
    ] as const)
      await ci.getManifest(repository, tag);

    const now = () => sandbox!.clock.now();
    const first = await suggestImages(admin.aws.ecr, config, { now: now(), pulledWithinDays: 7 });
    expect(first.pulledNotListed.map((p) => p.image).sort()).toEqual([
      'golang:1.24',
      'postgres:17',
      'redis:7',
    ]);
    expect(first.listedNotPulled).toEqual([
      { image: 'python:3.13-slim' },
      { image: 'alpine:3.20' },
      { image: 'busybox:1.36' },
    ]);

    // A repository deleted between the listing and the read of its images pulls nothing any more.
    sandbox.faults.add({
      match: 'ecr:DescribeImages',
      times: 1,
      before: () => sandbox!.ecr.repositories.delete('docker-hub/library/redis'),
    });
    const afterDeletion = await suggestImages(admin.aws.ecr, config, { now: now(), pulledWithinDays: 7 });
    sandbox.faults.clear();
    expect(afterDeletion.pulledNotListed.map((p) => p.image).sort()).toEqual(['golang:1.24', 'postgres:17']);
    expect(afterDeletion.vanished).toEqual(['docker-hub/library/redis']);

    // A repository whose own policy refuses the caller's reads (a guardrail) is left out, and named.
    const guarded = sandbox.ecr.repositories.get('docker-hub/library/postgres')!;
    guarded.repositoryPolicy = guardrailPolicy('ecr:DescribeImages');
    const refused = await suggestImages(admin.aws.ecr, config, { now: now(), pulledWithinDays: 7 });
    expect(refused.pulledNotListed.map((p) => p.image)).toEqual(['golang:1.24']);
    expect(refused.unreadable).toEqual([
      {
        name: 'docker-hub/library/postgres',
        prefix: 'docker-hub',
        error: expect.stringContaining('explicit deny'),
      },
    ]);
    expect(formatSuggestions(refused, false)).toContain(
      'Not readable by this caller, left out: docker-hub/library/postgres (AccessDeniedException:',
    );
    guarded.repositoryPolicy = undefined;

    // Eight nights of pre-warming later, nothing else pulled: the pre-warm role's pulls kept nothing alive.
    for (let n = 0; n < 8; n++) {
      sandbox.clock.advanceHours(24);
      await night();
    }
    const later = await suggestImages(admin.aws.ecr, config, { now: now(), pulledWithinDays: 7 });
    expect(later.pulledNotListed).toEqual([]);
    expect(later.listedNotPulled.map((p) => p.image)).toEqual(LISTED);
    // node:22-alpine keeps CI's pull of eight days ago, not a pre-warm pull since.
    const nodePulledAt = Date.parse(later.listedNotPulled[0]!.lastPulledAt!);
    expect(now() - nodePulledAt).toBeGreaterThanOrEqual(8 * 86_400_000);
  }, 60_000);
});

describe.each(['daily', 'every-pull'] as const)(
  'prewarm.discover, pull time refreshed %s',
  (pullTimeRefresh) => {
    it('refreshes what CI pulled, counts it in the report, and lets it go once CI stops pulling it', async () => {
      sandbox = await startSandbox({ pullTimeRefresh });
      const config = loadConfig(configWithList('  discover:\n    pulledWithinDays: 3\n    maxImages: 3\n'));
      expect(config.prewarm.discover).toEqual({ pulledWithinDays: 3, maxImages: 3 });
      const admin = sandboxDeps(sandbox, config);
      const role = sandbox.iam.principal(
        sandbox.roleClientOptions('prewarm', config).credentials!.accessKeyId,
      )!.arn;
      await reconcile(admin.aws, config, { exclusionPrincipalArns: [role] });
      // The nightly run, as the stack's pre-warm role (its policy enforced), on the sandbox's clock.
      const night = () =>
        createPrewarmHandler({
          ...sandboxDeps(sandbox!, config).as('prewarm'),
          now: () => sandbox!.clock.now(),
        })({}, lambdaContext('prewarm', { remainingMs: 600_000 }));
      const first = await night();
      expect(first.discovered).toEqual({ images: [] });

      const auth = (await admin.aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
      const ci = new RegistryClient({
        baseUrl: auth.proxyEndpoint!,
        credentials: { basic: auth.authorizationToken! },
      });
      await ci.getManifest('docker-hub/library/redis', '7');
      sandbox.clock.advanceHours(1);
      await ci.getManifest('docker-hub/library/postgres', '17');
      sandbox.clock.advanceHours(1);
      await ci.getManifest('docker-hub/library/golang', '1.24');

      sandbox.clock.advanceHours(24);
      const second = await night();
      // All three, most recently pulled first.
      expect(second.discovered).toEqual({ images: ['golang:1.24', 'postgres:17', 'redis:7'] });
      expect(second.images.map((i) => i.image)).toEqual([...LISTED, 'golang:1.24', 'postgres:17', 'redis:7']);
      expect(second.counts.failed).toBe(0);

      // A repository whose own policy refuses the pre-warm role's reads: the others are still
      // discovered, and the report names the one left out.
      const guarded = sandbox.ecr.repositories.get('docker-hub/library/postgres')!;
      guarded.repositoryPolicy = guardrailPolicy('ecr:DescribeImages');
      const refused = await night();
      guarded.repositoryPolicy = undefined;
      expect(refused.discovered).toEqual({
        images: ['golang:1.24', 'redis:7'],
        unreadable: ['docker-hub/library/postgres'],
      });
      expect(formatPrewarm(refused)).toContain(
        'Discovery could not read, left out: docker-hub/library/postgres',
      );

      // CI stops pulling: the pre-warm role's own pulls do not keep them discovered past the window.
      sandbox.clock.advanceHours(24);
      expect((await night()).discovered?.images).toEqual(['golang:1.24', 'postgres:17', 'redis:7']);
      sandbox.clock.advanceHours(48);
      expect((await night()).discovered).toEqual({ images: [] });
    }, 60_000);
  },
);
