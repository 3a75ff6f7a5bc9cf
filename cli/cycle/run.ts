/**
 * The nightly cycle, end to end, against the sandbox: what `npm start` runs. Every step goes
 * through the real Lambda handler entry points with Lambda-shaped events and contexts:
 *
 *   reconcile (plan, then apply) → check the token (10 days left: expiring) → rotate it (managed,
 *   through Secrets Manager's RotateSecret) → check again → pre-warm night 1 → upstream releases
 *   two images → the next night's pre-warm (only those two pulled) → pull-through events →
 *   cache metrics → which alarms would fire.
 *
 * The result says what happened and whether each step did what it should.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createCacheMetricsHandler } from '../../handlers/cacheMetrics.js';
import { createCheckCredentialHandler } from '../../handlers/checkCredential.js';
import { createPullEventsHandler } from '../../handlers/pullEvents.js';
import { createReconcileHandler } from '../../handlers/reconcile.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import { createAwsClients } from '../../lib/aws/clients.js';
import { loadConfig } from '../../lib/config/load.js';
import type { CredentialCheck } from '../../lib/credential/check.js';
import { followRotation } from '../../lib/credential/follow.js';
import type { ReconcileReport } from '../../lib/ecr/reconcile.js';
import { alarmDefinitions, wouldFire } from '../../lib/metrics/alarms.js';
import type { CacheReport } from '../../lib/metrics/collect.js';
import { runNightLocally } from '../../lib/prewarm/local-execution.js';
import type { ImageResult, PrewarmReport } from '../../lib/prewarm/report.js';
import { createRuntime } from '../../lib/runtime/deps.js';
import { localLambdaContext } from '../../lib/runtime/local-context.js';
import { createLogger, type LogEntry } from '../../lib/runtime/logger.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { CREDENTIAL_SECRET } from '../../sandbox/seed.js';
import { nightHandlers } from '../night.js';

export const RELEASED_IMAGES = [
  { repository: 'library/node', tag: '22-alpine', image: 'node:22-alpine' },
  { repository: 'library/python', tag: '3.13-slim', image: 'python:3.13-slim' },
];
const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-local-rotateCredential';
const TIMEOUTS: Record<string, number> = {
  reconcile: 60,
  checkCredential: 60,
  rotateCredential: 120,
  cacheMetrics: 300,
  pullEvents: 60,
};

/** The functions whose log carries a line per image warmed. */
const WARMING_FUNCTIONS = new Set(['prewarm', 'prewarmPlan', 'warmImage']);

export interface Expectation {
  step: string;
  ok: boolean;
  detail: string;
}

export interface CycleResult {
  ok: boolean;
  expectations: Expectation[];
  reconcile: { plan: ReconcileReport['plan']['changes']; applied: ReconcileReport['result'] };
  tokenBefore: CredentialCheck;
  rotation: { succeeded: boolean; steps: Array<{ step: string; ok: boolean; error?: string }> };
  tokenAfter: CredentialCheck;
  nights: PrewarmReport[];
  released: string[];
  pullEvents: { total: number; failed: number };
  cache: CacheReport;
  alarms: { beforeRotation: string[]; now: string[] };
  logFile: string;
}

export interface CycleOptions {
  config?: string;
  onImage?: (result: ImageResult, done: number, total: number, night: number) => void;
  onStep?: (text: string) => void;
}

const lambdaContext = (functionName: string) =>
  localLambdaContext(functionName, { remainingMs: TIMEOUTS[functionName]! * 1000 });

const scheduledEvent = () => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
});

function firingAlarms(sandbox: Sandbox, config: ReturnType<typeof loadConfig>): string[] {
  return alarmDefinitions(config)
    .filter((alarm) => {
      const key = JSON.stringify(Object.entries(alarm.dimensions).sort());
      const values = sandbox.cloudwatch.datums
        .filter(
          (d) =>
            d.namespace === alarm.namespace &&
            d.metricName === alarm.metric &&
            JSON.stringify(Object.entries(d.dimensions).sort()) === key,
        )
        .flatMap((d) => d.values);
      // What the alarm would say now: each datum here is one evaluation period.
      return wouldFire(alarm, values);
    })
    .map((a) => a.title);
}

export async function runCycle(options: CycleOptions = {}): Promise<CycleResult> {
  const step = options.onStep ?? (() => {});
  const config = loadConfig(options.config ?? 'keeper.config.yaml');
  const work = mkdtempSync(join(tmpdir(), 'ecr-cache-keeper-cycle-'));
  const logFile = join(work, 'handlers.log');
  const sandbox = await startSandbox({ seed: { patExpiresInDays: 10 } });

  // The handlers' log entries reach this process as data: written to the log file, and the
  // pre-warm's per-image entries drive the progress display.
  let night = 0;
  let done = 0;
  const sink = (entry: LogEntry) => {
    appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
    if (WARMING_FUNCTIONS.has(String(entry.function)) && entry.message === 'image' && options.onImage) {
      done++;
      options.onImage(entry as unknown as ImageResult, done, config.prewarm.images.length, night);
    }
  };
  // Every handler built as Lambda builds it, with the sandbox's endpoints and, for its AWS calls,
  // the credentials of its own role in the stack: the sandbox enforces each role's policy.
  const runtime = createRuntime(config, { logger: createLogger({ sink }), endpoints: sandbox.endpoints });
  const asRole = (fn: string) => ({ ...runtime, ...createAwsClients(sandbox.roleClientOptions(fn, config)) });
  const operator = createAwsClients(sandbox.clientOptions);
  // The roles that pull through the cache to warm it: registered as pull-time update exclusions.
  const warmingRoles = ['prewarm', 'prewarmPlan', 'warmImage'].map(
    (fn) => sandbox.iam.principal(sandbox.roleClientOptions(fn, config).credentials!.accessKeyId)!.arn,
  );
  const reconcileHandler = createReconcileHandler({
    ...asRole('reconcile'),
    prewarmRole: { arns: warmingRoles },
  });
  const checkCredentialHandler = createCheckCredentialHandler(asRole('checkCredential'));
  const rotateCredentialHandler = createRotateCredentialHandler(asRole('rotateCredential'));
  // The nightly pre-warm: the stack's state machine run here, each step its handler as its own
  // role, the state machine role's permission to invoke it checked by the sandbox.
  const prewarmNight = (nightConfig: typeof config) =>
    runNightLocally({
      config: nightConfig,
      handlers: nightHandlers((fn) => ({ ...asRole(fn), config: nightConfig })),
      authorizeInvoke: (arn) => sandbox.authorizeStateMachineInvoke(arn),
    });
  const pullEventsHandler = createPullEventsHandler(asRole('pullEvents'));
  const cacheMetricsHandler = createCacheMetricsHandler(asRole('cacheMetrics'));
  sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) =>
    rotateCredentialHandler(event, lambdaContext('rotateCredential')),
  );

  const expectations: Expectation[] = [];
  const expect = (stepName: string, ok: boolean, detail: string) =>
    expectations.push({ step: stepName, ok, detail });

  try {
    step('reconcile: plan');
    const plan = (await reconcileHandler({ dryRun: true }, lambdaContext('reconcile'))) as ReconcileReport;
    step('reconcile: apply');
    const applied = (await reconcileHandler(scheduledEvent(), lambdaContext('reconcile'))) as ReconcileReport;
    expect(
      'reconcile',
      applied.result.ok && applied.result.applied.length === plan.plan.changes.length,
      `${applied.result.applied.length} change(s) applied, rule validated: ${applied.result.validations.every((v) => v.isValid)}`,
    );

    step('token: check');
    const [tokenBefore] = (await checkCredentialHandler(
      scheduledEvent(),
      lambdaContext('checkCredential'),
    )) as CredentialCheck[];
    expect(
      'token check',
      tokenBefore!.state === 'expiring',
      `state ${tokenBefore!.state}, ${tokenBefore!.expiry.daysLeft ?? '?'} days left`,
    );
    const alarmsBefore = firingAlarms(sandbox, config);

    step('token: rotate (managed)');
    const started = await operator.secrets.send(
      new RotateSecretCommand({
        SecretId: CREDENTIAL_SECRET,
        RotationLambdaARN: ROTATION_ARN,
        RotationRules: { ScheduleExpression: 'rate(30 days)' },
      }),
    );
    // RotateSecret only starts it: followed the way `cache-keeper rotate` follows it.
    await followRotation(operator.secrets, CREDENTIAL_SECRET, String(started.VersionId), { pollMs: 20 });
    await sandbox.secrets.settled();
    const rotation = sandbox.secrets.rotations.at(-1)!;
    const [tokenAfter] = (await checkCredentialHandler(
      scheduledEvent(),
      lambdaContext('checkCredential'),
    )) as CredentialCheck[];
    expect(
      'token rotation',
      rotation.succeeded && tokenAfter!.state === 'valid',
      `rotation ${rotation.succeeded ? 'succeeded' : 'failed'}; now ${tokenAfter!.state}, ${tokenAfter!.expiry.daysLeft ?? '?'} days left`,
    );

    const nights: PrewarmReport[] = [];
    night = 1;
    // Night 1 fans out (one warmImage per image), whatever the config's threshold, so the cycle runs
    // every step of the state machine; night 2 is as configured (a small night: one invocation).
    step('pre-warm: night 1 (state machine, fanned out)');
    nights.push(
      await prewarmNight({
        ...config,
        prewarm: { ...config.prewarm, fanOut: { ...config.prewarm.fanOut, minImages: 0 } },
      }),
    );
    expect(
      'pre-warm night 1',
      nights[0]!.counts.failed === 0 && nights[0]!.counts.warmed === config.prewarm.images.length,
      `${nights[0]!.counts.warmed} warmed, ${nights[0]!.counts.failed} failed`,
    );

    step('upstream: two images released; a day passes');
    for (const r of RELEASED_IMAGES) sandbox.hub.release(r.repository, r.tag);
    sandbox.clock.advanceHours(25);
    // Within the day ECR runs the repositories' lifecycle policies: the templates' keep nothing listed from night 2.
    sandbox.ecr.runLifecyclePolicies();
    night = 2;
    done = 0;
    step('pre-warm: night 2 (state machine)');
    nights.push(await prewarmNight(config));
    const warmedSecond = nights[1]!.images
      .filter((i) => i.status === 'warmed')
      .map((i) => i.image)
      .sort();
    const releasedNames = RELEASED_IMAGES.map((r) => r.image).sort();
    expect(
      'pre-warm night 2',
      JSON.stringify(warmedSecond) === JSON.stringify(releasedNames) &&
        nights[1]!.counts.skipped === config.prewarm.images.length - releasedNames.length,
      `warmed ${warmedSecond.join(', ') || 'nothing'}; ${nights[1]!.counts.skipped} unchanged; ${nights[1]!.upstreamPulls.measured ?? nights[1]!.upstreamPulls.estimated} pulls`,
    );

    step('pull-through events');
    const events = [...sandbox.ecrRegistry.events];
    for (const event of events) await pullEventsHandler(event, lambdaContext('pullEvents'));
    const failedEvents = events.filter((e) => e.detail['sync-status'] === 'FAILED').length;

    step('cache metrics');
    const metrics = (await cacheMetricsHandler(scheduledEvent(), lambdaContext('cacheMetrics'))) as {
      report: CacheReport;
    };
    expect(
      'cache metrics',
      metrics.report.total.images > 0 &&
        sandbox.cloudwatch.latest(config.metrics.namespace, 'CacheImages') === metrics.report.total.images,
      `${metrics.report.total.images} images published`,
    );
    const alarmsNow = firingAlarms(sandbox, config);
    // Every function ran as its own role with the sandbox enforcing it: nothing may have been denied.
    expect(
      'iam',
      sandbox.iam.enforce && sandbox.iam.denials.length === 0,
      sandbox.iam.denials.length
        ? `denied: ${sandbox.iam.denials.map((d) => `${d.principal} ${d.action} on ${d.resource}`).join('; ')}`
        : 'every function ran as its own role, enforced; nothing denied',
    );
    expect(
      'alarms',
      alarmsBefore.some((a) => a.startsWith('token expiring')) && alarmsNow.length === 0,
      `before rotation: ${alarmsBefore.join(', ') || 'none'}; now: ${alarmsNow.join(', ') || 'none'}`,
    );

    return {
      ok: expectations.every((e) => e.ok),
      expectations,
      reconcile: { plan: plan.plan.changes, applied: applied.result },
      tokenBefore: tokenBefore!,
      rotation: { succeeded: rotation.succeeded, steps: rotation.steps },
      tokenAfter: tokenAfter!,
      nights,
      released: releasedNames,
      pullEvents: { total: events.length, failed: failedEvents },
      cache: metrics.report,
      alarms: { beforeRotation: alarmsBefore, now: alarmsNow },
      logFile,
    };
  } finally {
    await sandbox.stop();
  }
}
