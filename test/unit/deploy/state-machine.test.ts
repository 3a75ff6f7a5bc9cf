/**
 * The nightly state machine's definition: valid Amazon States Language (asl-validator, the
 * validator aws-local-stepfunctions and AWS's own tooling follow), the config's fan-out settings in
 * it, retries only where no pull can have been spent, and the packaged template's copy of it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { stateMachineDefinition } from '../../../deploy/state-machine.cjs';
import { loadConfig } from '../../../lib/config/load.js';

const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

const arns = {
  prewarmPlan: 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-dev-prewarmPlan',
  warmImage: 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-dev-warmImage',
  prewarmReport: 'arn:aws:lambda:us-east-1:123456789012:function:ecr-cache-keeper-dev-prewarmReport',
};
const config = loadConfig('keeper.config.yaml');
const withFanOut = (maxConcurrency: number, imageTimeoutSeconds: number) => ({
  ...config,
  prewarm: { ...config.prewarm, fanOut: { ...config.prewarm.fanOut, maxConcurrency, imageTimeoutSeconds } },
});
type State = Record<string, unknown> & { Retry?: Array<{ ErrorEquals: string[] }> };

describe('the state machine definition', () => {
  it('is valid Amazon States Language', () => {
    const result = validate(stateMachineDefinition(config, arns));
    expect(result.isValid, result.errorsText()).toBe(true);
  });

  it('asl-validator is no rubber stamp: a Map without its processor is refused', () => {
    const broken = stateMachineDefinition(config, arns);
    delete (broken.States.WarmImages as Record<string, unknown>).ItemProcessor;
    expect(validate(broken).isValid).toBe(false);
  });

  it('takes MaxConcurrency and each image’s timeout from the config', () => {
    const definition = stateMachineDefinition(withFanOut(37, 420), arns);
    const map = definition.States.WarmImages as {
      MaxConcurrency: number;
      ItemProcessor: { States: Record<string, State> };
    };
    expect(map.MaxConcurrency).toBe(37);
    expect(map.ItemProcessor.States.WarmImage).toMatchObject({
      Resource: arns.warmImage,
      TimeoutSeconds: 420,
    });
  });

  it('retries the plan and each image only when Lambda refused to run it; catches a failed image; retries the report', () => {
    const definition = stateMachineDefinition(config, arns);
    const warm = (definition.States.WarmImages as { ItemProcessor: { States: Record<string, State> } })
      .ItemProcessor.States.WarmImage!;
    for (const state of [definition.States.Plan as State, warm])
      expect(state.Retry?.flatMap((r) => r.ErrorEquals)).toEqual(['Lambda.TooManyRequestsException']);
    expect(warm.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ImageNotWarmed' },
    ]);
    expect((definition.States.Report as State).Retry?.[0]?.ErrorEquals).toContain('States.TaskFailed');
  });

  it('is what the packaged stack deploys, with the three functions’ ARNs, started by the schedule', () => {
    const template = JSON.parse(
      readFileSync('.serverless/cloudformation-template-update-stack.json', 'utf8'),
    );
    const machine = template.Resources.PrewarmStateMachine.Properties;
    const text = machine.DefinitionString['Fn::Sub'] as string;
    const resolved = JSON.parse(
      text.replace(
        /\$\{(\w+)LambdaFunction\.Arn\}/g,
        (_m: string, name: string) => arns[(name[0]!.toLowerCase() + name.slice(1)) as keyof typeof arns],
      ),
    );
    expect(resolved).toEqual(stateMachineDefinition(config, arns));
    const schedule = template.Resources.PrewarmSchedule.Properties;
    expect(schedule.Targets[0]).toMatchObject({ Arn: { Ref: 'PrewarmStateMachine' }, Input: '{}' });
    // The state machine role invokes exactly its three functions.
    const policy = template.Resources.PrewarmStateMachineRole.Properties.Policies[0].PolicyDocument;
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0].Action).toBe('lambda:InvokeFunction');
    expect(
      policy.Statement[0].Resource.map((r: { 'Fn::Sub': string }) => r['Fn::Sub'].split(':function:')[1]),
    ).toEqual([
      'ecr-cache-keeper-dev-prewarmPlan',
      'ecr-cache-keeper-dev-warmImage',
      'ecr-cache-keeper-dev-prewarmReport',
    ]);
    // The prewarm function keeps no schedule of its own: the night runs once.
    expect(
      Object.values(
        template.Resources as Record<
          string,
          { Type: string; Properties: { Targets?: Array<{ Arn: unknown }> } }
        >,
      )
        .filter((r) => r.Type === 'AWS::Events::Rule')
        .flatMap((r) => r.Properties.Targets ?? [])
        .filter((t) => JSON.stringify(t.Arn).includes('PrewarmLambdaFunction')),
    ).toEqual([]);
  });
});
