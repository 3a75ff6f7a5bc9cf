/**
 * The nightly pre-warm as a Step Functions state machine (lib/prewarm/fanout.ts has the steps):
 *
 *   Plan ──► WarmImages (Map: WarmImage per item, MaxConcurrency from the config) ──► Report
 *
 * One definition for AWS (deploy/stack.cjs, with the functions' ARNs) and for the local runs
 * (lib/prewarm/local-execution.ts runs it with aws-local-stepfunctions against the sandbox).
 * Retries only where no Docker Hub pull can have been spent: the invocation was refused before it
 * ran (Lambda throttled it), or the step spends nothing (Report). A WarmImage that fails as a whole
 * is caught, so the other images' results still reach the report.
 */

/** The functions the state machine invokes, as serverless.yml names them. */
const STATE_MACHINE_FUNCTIONS = ['prewarmPlan', 'warmImage', 'prewarmReport'];

/** How long a night may take at most; the plan's lease expires then, whatever happens. */
const EXECUTION_TIMEOUT_SECONDS = 6 * 3600;

/** Lambda refused the invocation before the function ran: nothing was spent. */
const NOT_RUN = ['Lambda.TooManyRequestsException'];
const ANY_LAMBDA_FAILURE = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'States.TaskFailed',
];

const retry = (errors, attempts) => [
  { ErrorEquals: errors, IntervalSeconds: 2, MaxAttempts: attempts, BackoffRate: 2, JitterStrategy: 'FULL' },
];

/**
 * The definition. `arns` names each function's ARN (strings, or CloudFormation expressions that
 * the caller turns into a string); `config` is the resolved keeper config.
 */
function stateMachineDefinition(config, arns) {
  const fanOut = config.prewarm.fanOut;
  return {
    Comment: 'ecr-cache-keeper: the nightly pre-warm, planned once, fanned out per image, reported once',
    StartAt: 'Plan',
    TimeoutSeconds: EXECUTION_TIMEOUT_SECONDS,
    States: {
      Plan: {
        Type: 'Task',
        Comment:
          'Free checks, de-duplication and the Docker Hub quota decision for the whole night; a small night is warmed here',
        Resource: arns.prewarmPlan,
        Parameters: {
          'execution.$': '$$.Execution.Name',
          'startedAt.$': '$$.Execution.StartTime',
          'input.$': '$',
          timeoutSeconds: EXECUTION_TIMEOUT_SECONDS,
        },
        TimeoutSeconds: 900,
        Retry: retry(NOT_RUN, 3),
        Next: 'WarmImages',
      },
      WarmImages: {
        Type: 'Map',
        Comment: 'One warmImage per image to pull or fill',
        ItemsPath: '$.items',
        // Each item with the night's run id and layer mark, kept once in the plan, not per item.
        ItemSelector: {
          'reference.$': '$$.Map.Item.Value.reference',
          'image.$': '$$.Map.Item.Value.image',
          'platforms.$': '$$.Map.Item.Value.platforms',
          'planned.$': '$$.Map.Item.Value.planned',
          'runId.$': '$.runId',
          'layersVerifiedUntil.$': '$.layersVerifiedUntil',
          'indexWidths.$': '$.indexWidths',
        },
        MaxConcurrency: fanOut.maxConcurrency,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'WarmImage',
          States: {
            WarmImage: {
              Type: 'Task',
              Resource: arns.warmImage,
              TimeoutSeconds: fanOut.imageTimeoutSeconds,
              Retry: retry(NOT_RUN, 4),
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ImageNotWarmed' }],
              End: true,
            },
            ImageNotWarmed: {
              Type: 'Pass',
              Comment: 'The item and its error go to the report, which names it',
              End: true,
            },
          },
        },
        ResultPath: '$.outcomes',
        Next: 'Report',
      },
      Report: {
        Type: 'Task',
        Comment: 'The night report in the night order, its metrics, the night marks, the lease released',
        Resource: arns.prewarmReport,
        TimeoutSeconds: 120,
        Retry: retry(ANY_LAMBDA_FAILURE, 3),
        End: true,
      },
    },
  };
}

module.exports = { stateMachineDefinition, STATE_MACHINE_FUNCTIONS, EXECUTION_TIMEOUT_SECONDS };
