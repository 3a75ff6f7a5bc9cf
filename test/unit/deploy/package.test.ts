/**
 * Reads what `npm run package` (serverless package, no AWS credentials) wrote to .serverless/:
 * the CloudFormation template and the bundles. `npm test` packages before it runs the tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { prewarmMetrics } from '../../../lib/prewarm/metrics.js';
import type { PrewarmReport } from '../../../lib/prewarm/report.js';

const FUNCTIONS: string[] = createRequire(import.meta.url)('../../../deploy/functions.cjs');
const templatePath = '.serverless/cloudformation-template-update-stack.json';

interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON
  Properties: Record<string, any>;
  DependsOn?: string[];
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string>>;
}

function readTemplate(): {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Description?: string; Value: unknown }>;
} {
  if (!existsSync(templatePath))
    throw new Error(`${templatePath} is missing: run \`npm run package\` first (npm test does)`);
  return JSON.parse(readFileSync(templatePath, 'utf8'));
}

const template = readTemplate();
const resources = template.Resources;
const logical = (fn: string) => fn[0]!.toUpperCase() + fn.slice(1);

/** What deploy/stack.cjs makes for the dev stage with these `param:` values (the rest undefined). */
async function stackWith(params: Record<string, string | undefined>) {
  const { resources } = createRequire(import.meta.url)('../../../deploy/stack.cjs');
  return resources({
    options: { stage: 'dev' },
    resolveVariable: async (v: string) => params[v.replace(/^param:/, '')],
  });
}
const statementsOf = (fn: string): Statement[] =>
  resources[`${logical(fn)}Role`]!.Properties.Policies.flatMap(
    (p: { PolicyDocument: { Statement: Statement[] } }) => p.PolicyDocument.Statement,
  );
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourceList = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const text = (value: unknown) => JSON.stringify(value);

/** Which statements of a role grant an action (exactly, no wildcards in action names are used). */
const grants = (fn: string, action: string) => statementsOf(fn).filter((s) => actions(s).includes(action));

describe('packaged stack', () => {
  it('has reconcile register every role that pulls through the cache as a pull-time update exclusion', () => {
    const named = String(
      resources.ReconcileLambdaFunction!.Properties.Environment.Variables.KEEPER_PREWARM_ROLE_NAME,
    ).split(',');
    // The functions whose roles may pull through the cache (have ECR import from upstream).
    const pulling = FUNCTIONS.filter((fn) => grants(fn, 'ecr:BatchImportUpstreamImage').length > 0);
    expect(pulling.sort()).toEqual(['prewarm', 'prewarmPlan', 'warmImage']);
    const roleName = (fn: string) => text(resources[`${logical(fn)}Role`]!.Properties.RoleName);
    for (const fn of pulling)
      expect(named.some((n) => roleName(fn).includes(n.replace(/-us-east-1$/, '-')))).toBe(true);
    expect(named).toHaveLength(pulling.length);
  });

  it('has one zip per function, each under 400 KB of bundle', () => {
    for (const fn of FUNCTIONS) {
      const zip = `.serverless/${fn}.zip`;
      expect(existsSync(zip), zip).toBe(true);
      const listing = execFileSync('unzip', ['-l', zip], { encoding: 'utf8' });
      const bundle = listing.split('\n').find((l) => l.includes(`handlers/${fn}.cjs`));
      expect(Number(bundle?.trim().split(/\s+/)[0])).toBeLessThan(400 * 1024);
      expect(listing).toContain('keeper.resolved.json');
    }
  });

  it('runs every function on Node.js 22 and arm64, the Node major the tests use, with its own role', () => {
    for (const fn of FUNCTIONS) {
      const props = resources[`${logical(fn)}LambdaFunction`]!.Properties;
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Role).toEqual({ 'Fn::GetAtt': [`${logical(fn)}Role`, 'Arn'] });
    }
    // One role per function, plus the state machine's and its schedule's.
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role')).toHaveLength(
      FUNCTIONS.length + 2,
    );
    expect(process.versions.node.split('.')[0]).toBe('22');
  });

  // Which resources each action may have is checked against AWS's reference data in iam-reference.test.ts.
  it('binds cloudwatch:PutMetricData to the keeper namespace wherever it is granted', () => {
    for (const fn of FUNCTIONS)
      for (const s of grants(fn, 'cloudwatch:PutMetricData'))
        expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'EcrCacheKeeper' } });
  });

  it('limits iam:CreateServiceLinkedRole to ECR’s own service-linked roles', () => {
    const [slr, ...more] = FUNCTIONS.flatMap((fn) => grants(fn, 'iam:CreateServiceLinkedRole'));
    expect(more).toEqual([]);
    expect(grants('reconcile', 'iam:CreateServiceLinkedRole')).toEqual([slr]);
    expect(slr!.Condition).toEqual({
      StringEquals: { 'iam:AWSServiceName': ['pullthroughcache.ecr.amazonaws.com', 'ecr.amazonaws.com'] },
    });
  });

  it('runs one pre-warm at a time and never retries a failed night', () => {
    expect(resources.PrewarmLambdaFunction!.Properties.ReservedConcurrentExecutions).toBe(1);
    const config = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' && text(r.Properties.FunctionName).includes('Prewarm'),
    );
    expect(config?.Properties.MaximumRetryAttempts).toBe(0);
  });

  it('scopes repository actions to the configured prefixes and secrets to the configured names', () => {
    for (const s of grants('prewarm', 'ecr:BatchImportUpstreamImage'))
      expect(text(s.Resource)).toContain(':repository/docker-hub/*');
    for (const s of grants('reconcile', 'ecr:PutLifecyclePolicy'))
      expect(text(s.Resource)).toContain(':repository/docker-hub/*');
    const secretGrants = FUNCTIONS.flatMap((fn) =>
      statementsOf(fn).filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:'))),
    );
    for (const s of secretGrants) {
      for (const r of resourceList(s))
        expect(text(r)).toMatch(
          /:secret:(ecr-pullthroughcache\/docker-hub|ecr-cache-keeper\/dockerhub-admin)-\?\?\?\?\?\?/,
        );
    }
    expect(grants('pullEvents', 'ecr:DescribeImages')).toEqual([]);
    expect(
      statementsOf('pullEvents')
        .flatMap(actions)
        .filter((a) => !a.startsWith('logs:') && a !== 'sns:Publish'),
    ).toEqual(['cloudwatch:PutMetricData']);
  });

  it('lets only the rotation function write the credential secret, and lets Secrets Manager invoke it', () => {
    for (const fn of FUNCTIONS) {
      const writes = grants(fn, 'secretsmanager:PutSecretValue').concat(
        grants(fn, 'secretsmanager:UpdateSecretVersionStage'),
      );
      if (fn === 'rotateCredential') {
        expect(writes.length).toBe(2);
        for (const s of writes) expect(text(s.Resource)).toContain('ecr-pullthroughcache/docker-hub');
        for (const s of writes) expect(text(s.Resource)).not.toContain('dockerhub-admin');
      } else expect(writes, fn).toEqual([]);
    }
    expect(resources.RotateCredentialInvokePermission!.Properties).toMatchObject({
      Principal: 'secretsmanager.amazonaws.com',
      Action: 'lambda:InvokeFunction',
    });
    // A secret has one rotation schedule: only the rotationStage (prod) attaches it, never at deploy time.
    expect(Object.keys(resources).filter((k) => k.startsWith('CredentialRotationSchedule'))).toEqual([]);
    const prod = JSON.parse(
      readFileSync('.serverless-prod/cloudformation-template-update-stack.json', 'utf8'),
    );
    expect(prod.Resources.CredentialRotationSchedule0.Properties).toMatchObject({
      SecretId: 'ecr-pullthroughcache/docker-hub',
      RotationRules: { ScheduleExpression: 'rate(30 days)', Duration: '1h' },
      RotateImmediatelyOnUpdate: false,
    });
  });

  it("schedules the functions, wires the pull-through events, and keeps logs for the stage's retention", () => {
    const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const expressions = schedules.map((r) => r.Properties.ScheduleExpression).filter(Boolean);
    expect(expressions).toEqual(
      expect.arrayContaining(['cron(0 3 * * ? *)', 'cron(0 2 * * ? *)', 'cron(0 6 * * ? *)', 'rate(1 hour)']),
    );
    expect(schedules.find((r) => r.Properties.EventPattern)?.Properties.EventPattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Pull Through Cache Action'],
    });
    for (const fn of FUNCTIONS)
      expect(resources[`${logical(fn)}LogGroup`]!.Properties.RetentionInDays).toBe(30);
  });

  it('reconciles before the nightly pre-warm in every stage, so the night warms through rules and exclusions already in place', () => {
    // A rule added to the config, or one drifted away, would otherwise fail that night's images;
    // and the pre-warm roles' pull-time update exclusions are registered by reconcile.
    const minuteOfDay = (expression: string) => {
      const [minute, hour] = /^cron\((\d+) (\d+) /.exec(expression)!.slice(1).map(Number);
      return hour! * 60 + minute!;
    };
    for (const dir of ['.serverless', '.serverless-prod']) {
      const stack = JSON.parse(readFileSync(`${dir}/cloudformation-template-update-stack.json`, 'utf8'));
      const at = (logicalId: string) => minuteOfDay(stack.Resources[logicalId].Properties.ScheduleExpression);
      expect(at('ReconcileEventsRuleSchedule1'), dir).toBeLessThan(at('PrewarmSchedule'));
    }
  });

  it('rotates the token in a window that closes before the night begins, never during a pre-warm', () => {
    // A rate() window opens at midnight UTC and, without a Duration, stays open all day: a rotation
    // could retire the token a running pre-warm logs in with, failing the rest of its images.
    const stack = JSON.parse(
      readFileSync('.serverless-prod/cloudformation-template-update-stack.json', 'utf8'),
    );
    const rules = stack.Resources.CredentialRotationSchedule0.Properties.RotationRules;
    expect(rules).toEqual({ ScheduleExpression: 'rate(30 days)', Duration: '1h' });
    const reconcile = /^cron\((\d+) (\d+) /.exec(
      stack.Resources.ReconcileEventsRuleSchedule1.Properties.ScheduleExpression,
    )!;
    expect(Number(reconcile[2]) * 60 + Number(reconcile[1])).toBeGreaterThanOrEqual(90); // half an hour after the window
  });

  it('every alarm says what to look at or run next, as the e-mail it sends is all an on-call engineer has', () => {
    const next = /npx cache-keeper [a-z]+|logs|execution history|docs\/operations\.md|rotate or stage/;
    const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    for (const [id, alarm] of alarms) expect(alarm.Properties.AlarmDescription, id).toMatch(next);
  });

  it('sends alarms and failed asynchronous invocations to the SNS topic', () => {
    const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    const metrics = alarms.map(([, r]) => r.Properties.MetricName);
    expect(metrics).toEqual(
      expect.arrayContaining([
        'CredentialValid',
        'CredentialDaysToExpiry',
        'PrewarmImagesFailed',
        'UpstreamPullFailures',
        'Errors',
      ]),
    );
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    const expiring = alarms.find(([, r]) => r.Properties.MetricName === 'CredentialDaysToExpiry')![1];
    expect(expiring.Properties).toMatchObject({ Threshold: 14, ComparisonOperator: 'LessThanThreshold' });
    // An e-mail subscription exists only when the stage sets alarmEmail (none in the dev package).
    expect(resources.AlarmEmailSubscription).toBeUndefined();
    const eventConfigs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    expect(eventConfigs.length).toBeGreaterThanOrEqual(5);
    for (const c of eventConfigs)
      expect(text(c.Properties.DestinationConfig.OnFailure)).toContain('AlarmTopic');
  });

  it('alarms on a night that fails or times out as a whole, and on a schedule that could not start it', () => {
    // A failed Map (a payload over 256 KiB) or the execution's timeout is no function's error.
    const night = resources.PrewarmExecutionFailedAlarm?.Properties;
    expect(night, 'an alarm on the state machine’s failed executions').toBeDefined();
    const stats = night!.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat);
    expect(
      stats.map((m: { MetricStat: { Metric: { MetricName: string } } }) => m.MetricStat.Metric.MetricName),
    ).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of stats)
      expect(m.MetricStat.Metric).toMatchObject({
        Namespace: 'AWS/States',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'PrewarmStateMachine' } }],
      });
    expect(night!.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    const schedule = resources.PrewarmScheduleFailedAlarm?.Properties;
    expect(schedule).toMatchObject({
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: 'PrewarmSchedule' } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('outputs the registry URI prefix CI pulls through, one per rule, in the account and region deployed to', () => {
    expect(template.Outputs.CacheRegistryUriDockerHub).toEqual({
      Description: 'Pull-through cache for registry-1.docker.io (rule docker-hub)',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      Value: { 'Fn::Sub': '${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/docker-hub' },
    });
  });

  it('subscribes the alarmEmail parameter to the alarm topic when a stage sets it', async () => {
    const out = await stackWith({ alarmEmail: 'ops@example.com', rotationStage: 'prod' });
    expect(out.Resources.AlarmEmailSubscription).toEqual({
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' },
    });
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['none by default', undefined, undefined],
    ['none when empty', '', undefined],
    [
      'a customer managed policy, with a path',
      'arn:aws:iam::123456789012:policy/boundaries/PlatformBoundary',
      'arn:aws:iam::123456789012:policy/boundaries/PlatformBoundary',
    ],
  ])('permissionsBoundary, %s: on every role the stack makes', async (_case, value, boundary) => {
    const out = await stackWith({ permissionsBoundary: value });
    const roles = Object.values(out.Resources as Record<string, Resource>).filter(
      (r) => r.Type === 'AWS::IAM::Role',
    );
    // The functions' roles, the state machine's and the schedule's.
    expect(roles.length).toBe(FUNCTIONS.length + 2);
    for (const role of roles) expect(role.Properties.PermissionsBoundary).toBe(boundary);
  });

  it.each<[string, string | undefined, number | undefined]>([
    ['the default', undefined, 1],
    ['a number', '2', 2],
    ['none (an account whose Lambda quota is 10 cannot reserve any)', 'none', undefined],
  ])('prewarmReservedConcurrency, %s: the prewarm function reserves %s', async (_case, value, reserved) => {
    const out = await stackWith({ prewarmReservedConcurrency: value });
    expect(out.extensions?.PrewarmLambdaFunction?.Properties?.ReservedConcurrentExecutions).toBe(reserved);
  });

  it('has a dashboard with cache size, image count, pre-warm outcomes, pulls remaining, token days and failed pulls', () => {
    const body = text(resources.Dashboard!.Properties.DashboardBody);
    for (const metric of [
      'CacheBytes',
      'CacheImages',
      'PrewarmImagesWarmed',
      'PrewarmImagesFailed',
      'DockerHubPullsRemaining',
      'CredentialDaysToExpiry',
      'UpstreamPullFailures',
      'CredentialVerified',
    ]) {
      expect(body).toContain(metric);
    }
    // The nights as Step Functions counts them, for this stack's state machine.
    const widgets = JSON.parse(resources.Dashboard!.Properties.DashboardBody['Fn::Sub']).widgets;
    // Every outcome a night counts has its line (unverified and archived ones are no failures, but
    // a night of them is worth seeing).
    const outcomes = widgets.find(
      (w: { properties: { title: string } }) => w.properties.title === 'Pre-warm outcomes',
    );
    const report = { counts: { warmed: 1 }, upstreamPulls: { estimated: 0 }, durationMs: 0 } as PrewarmReport;
    expect(outcomes.properties.metrics.map((m: string[]) => m[1]).sort()).toEqual(
      prewarmMetrics(report)
        .map((m) => m.name)
        .filter((name) => name.startsWith('PrewarmImages'))
        .sort(),
    );
    const nights = widgets.find(
      (w: { properties: { title: string } }) => w.properties.title === 'Nightly pre-warm executions',
    );
    expect(nights.properties.metrics).toEqual(
      ['ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map((m) => [
        'AWS/States',
        m,
        'StateMachineArn',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
        '${PrewarmStateMachine}',
      ]),
    );
  });
});
