import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DeletePullThroughCacheRuleCommand,
  DeleteRepositoryCreationTemplateCommand,
  ECRClient,
  ExclusionAlreadyExistsException,
  PullThroughCacheRuleAlreadyExistsException,
  PullThroughCacheRuleNotFoundException,
  PutLifecyclePolicyCommand,
  RegisterPullTimeUpdateExclusionCommand,
  ServerException,
  TemplateAlreadyExistsException,
  UpdatePullThroughCacheRuleCommand,
  UpdateRepositoryCreationTemplateCommand,
  ValidatePullThroughCacheRuleCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../../lib/ecr/apply.js';
import type { Change, Plan } from '../../../lib/ecr/plan.js';

const ecrMock = mockClient(ECRClient);
const ecr = new ECRClient({ region: 'us-east-1' });
const meta = { $metadata: {}, message: 'm' };

const plan = (...changes: Change[]): Plan => ({
  changes,
  problems: [],
  unmanaged: [],
  excluded: [],
  unmatchedExclusions: [],
  checked: { rules: 0, templates: 0, repositories: 0 },
});
const createRule: Change = {
  kind: 'create-rule',
  prefix: 'p',
  target: 'rule p',
  action: '',
  diffs: [],
  input: { ecrRepositoryPrefix: 'p', upstreamRegistryUrl: 'registry-1.docker.io', credentialArn: 'arn:s' },
};
const template = { prefix: 'p', appliedFor: ['PULL_THROUGH_CACHE' as const] };

beforeEach(() => {
  ecrMock.reset();
  ecrMock.on(ValidatePullThroughCacheRuleCommand).resolves({ isValid: true });
});

describe('applyPlan', () => {
  it('creates a rule and validates it', async () => {
    const report = await applyPlan(ecr, plan(createRule));
    expect(ecrMock.commandCalls(CreatePullThroughCacheRuleCommand)[0]!.args[0].input).toEqual(
      createRule.kind === 'create-rule' ? createRule.input : {},
    );
    expect(report).toMatchObject({
      ok: true,
      applied: [{ target: 'rule p', kind: 'create-rule' }],
      validations: [{ prefix: 'p', isValid: true }],
    });
  });

  it('repairs a rule an interrupted run already created by updating its credential', async () => {
    ecrMock
      .on(CreatePullThroughCacheRuleCommand)
      .rejects(new PullThroughCacheRuleAlreadyExistsException(meta));
    const report = await applyPlan(ecr, plan(createRule));
    expect(ecrMock.commandCalls(UpdatePullThroughCacheRuleCommand)[0]!.args[0].input).toEqual({
      ecrRepositoryPrefix: 'p',
      credentialArn: 'arn:s',
      customRoleArn: undefined,
    });
    expect(report.ok).toBe(true);
  });

  it('reports an invalid upstream login as not ok, without failing the apply', async () => {
    ecrMock.on(ValidatePullThroughCacheRuleCommand).resolves({ isValid: false, failure: 'bad credentials' });
    const report = await applyPlan(
      ecr,
      plan({
        kind: 'update-rule',
        prefix: 'p',
        target: 'rule p',
        action: '',
        diffs: [],
        input: { ecrRepositoryPrefix: 'p', credentialArn: 'arn:s' },
      }),
    );
    expect(report).toMatchObject({
      ok: false,
      validations: [{ prefix: 'p', isValid: false, failure: 'bad credentials' }],
    });
    expect(report.failed).toBeUndefined();
  });

  it('re-creates a rule: delete (tolerating it already gone) then create', async () => {
    ecrMock.on(DeletePullThroughCacheRuleCommand).rejects(new PullThroughCacheRuleNotFoundException(meta));
    const report = await applyPlan(ecr, plan({ ...createRule, kind: 'recreate-rule' } as Change));
    expect(ecrMock.commandCalls(DeletePullThroughCacheRuleCommand)).toHaveLength(1);
    expect(ecrMock.commandCalls(CreatePullThroughCacheRuleCommand)).toHaveLength(1);
    expect(report.ok).toBe(true);
  });

  it('creates, updates, re-creates and deletes templates, each tolerating what already happened', async () => {
    ecrMock
      .on(CreateRepositoryCreationTemplateCommand)
      .rejectsOnce(new TemplateAlreadyExistsException(meta))
      .resolves({});
    const report = await applyPlan(
      ecr,
      plan(
        { kind: 'create-template', prefix: 'p', target: 't1', action: '', diffs: [], input: template },
        { kind: 'update-template', prefix: 'p', target: 't2', action: '', diffs: [], input: template },
        { kind: 'recreate-template', prefix: 'p', target: 't3', action: '', diffs: [], input: template },
        { kind: 'delete-template', prefix: 'p', target: 't4', action: '', diffs: [] },
      ),
    );
    expect(report.applied.map((a) => a.target)).toEqual(['t1', 't2', 't3', 't4']);
    expect(ecrMock.commandCalls(UpdateRepositoryCreationTemplateCommand)).toHaveLength(2);
    expect(ecrMock.commandCalls(DeleteRepositoryCreationTemplateCommand)).toHaveLength(2);
  });

  it('puts lifecycle policies and registers exclusions idempotently', async () => {
    ecrMock.on(RegisterPullTimeUpdateExclusionCommand).rejects(new ExclusionAlreadyExistsException(meta));
    const report = await applyPlan(
      ecr,
      plan(
        {
          kind: 'put-lifecycle-policy',
          repositoryName: 'p/a',
          lifecyclePolicyText: '{}',
          target: 'repository p/a',
          action: '',
          diffs: [],
        },
        {
          kind: 'register-exclusion',
          principalArn: 'arn:aws:iam::1:role/x',
          target: 'exclusion',
          action: '',
          diffs: [],
        },
        { kind: 'delete-rule', prefix: 'old', target: 'rule old', action: '', diffs: [] },
      ),
    );
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)[0]!.args[0].input).toEqual({
      repositoryName: 'p/a',
      lifecyclePolicyText: '{}',
    });
    expect(report.ok).toBe(true);
  });

  it('stops at the first failure and lists what was not attempted', async () => {
    ecrMock.on(CreateRepositoryCreationTemplateCommand).rejects(new ServerException(meta));
    const report = await applyPlan(
      ecr,
      plan(
        createRule,
        {
          kind: 'create-template',
          prefix: 'p',
          target: 'template p',
          action: '',
          diffs: [],
          input: template,
        },
        {
          kind: 'put-lifecycle-policy',
          repositoryName: 'p/a',
          lifecyclePolicyText: '{}',
          target: 'repository p/a',
          action: '',
          diffs: [],
        },
      ),
    );
    expect(report).toMatchObject({
      ok: false,
      applied: [{ target: 'rule p' }],
      failed: { target: 'template p', errorName: 'ServerException' },
      notAttempted: [{ target: 'repository p/a', kind: 'put-lifecycle-policy' }],
    });
    expect(ecrMock.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0);
  });

  it('a dry run calls nothing', async () => {
    const report = await applyPlan(ecr, plan(createRule), { dryRun: true });
    expect(ecrMock.calls()).toHaveLength(0);
    // A dry run that could plan everything is ok; what it would change is in notAttempted.
    expect(report).toMatchObject({ dryRun: true, ok: true, notAttempted: [{ target: 'rule p' }] });
  });
});
