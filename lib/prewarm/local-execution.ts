/**
 * The nightly state machine run in this process: the stack's own definition
 * (deploy/state-machine.cjs) executed by aws-local-stepfunctions, each Task a handler of this
 * codebase invoked as Lambda would invoke it: a fresh context with the function's timeout, an error
 * turned into Lambda's `{"errorType","errorMessage"}` (so the report reads it as it would on AWS),
 * and, when given, the state machine role's permission checked before each invocation. `npm start`,
 * the tests and `cache-keeper prewarm --fan-out` run the night through here.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { EXECUTION_TIMEOUT_SECONDS, stateMachineDefinition } from '../../deploy/state-machine.cjs';
import type { KeeperConfig } from '../config/load.js';
import { errorMessage, KeeperError } from '../runtime/errors.js';
import { localLambdaContext } from '../runtime/local-context.js';
import { sleep } from '../runtime/retry.js';
import type { PrewarmReport } from './report.js';

export type StepFunction = 'prewarmPlan' | 'warmImage' | 'prewarmReport';
type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalNightOptions {
  config: KeeperConfig;
  /** The three steps' handlers, built with their dependencies (as their roles, in the sandbox). */
  handlers: Record<StepFunction, Handler>;
  /** Each function's Lambda timeout in seconds (serverless.yml's by default). */
  timeoutSeconds?: Partial<Record<StepFunction, number>>;
  /** Checks the state machine role may invoke this function ARN; throws when it may not. */
  authorizeInvoke?: (functionArn: string) => void;
  /** The execution's input (`{}` on the schedule; `{"images": […]}` by hand). */
  input?: unknown;
  account?: string;
  region?: string;
  stage?: string;
  /**
   * Waited before each Task runs: Lambda's invocation and cold start, which a local run does not
   * have (the benchmark runs with none and with a measured cold start).
   */
  invokeOverheadMs?: number;
}

export class ExecutionFailedError extends KeeperError {
  override name = 'ExecutionFailedError';
}

const DEFAULT_TIMEOUTS: Record<StepFunction, (config: KeeperConfig) => number> = {
  prewarmPlan: () => 900,
  warmImage: (config) => config.prewarm.fanOut.imageTimeoutSeconds,
  prewarmReport: () => 120,
};

/** What Lambda makes of an error a handler threw: its type as the error name, the JSON cause. */
function asLambdaError(error: unknown): Error {
  const errorType = error instanceof Error ? error.name : 'Error';
  const failure = new Error(JSON.stringify({ errorType, errorMessage: errorMessage(error) }));
  failure.name = errorType;
  return failure;
}

type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/** Step Functions' payload limit: a state's input or output over 256 KiB fails the execution. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/** What crosses between states is JSON, at most 256 KiB of it, as on AWS. */
function asPayload(value: unknown): JSONValue {
  const text = JSON.stringify(value ?? null);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    const error = new Error(`a payload of ${Buffer.byteLength(text)} bytes is over Step Functions' 256 KiB`);
    error.name = 'States.DataLimitExceeded';
    throw error;
  }
  return JSON.parse(text) as JSONValue;
}

/** A Map state in Inline mode runs at most 40 iterations at once on AWS, whatever MaxConcurrency says (0: no limit). */
const INLINE_MAP_CONCURRENCY = 40;

function withInlineMapLimit<T>(definition: T): T {
  const states = (definition as { States?: Record<string, Record<string, unknown>> }).States ?? {};
  const limited = Object.fromEntries(
    Object.entries(states).map(([name, state]) => {
      if (state.Type !== 'Map') return [name, state];
      const asked = typeof state.MaxConcurrency === 'number' ? state.MaxConcurrency : 0;
      return [
        name,
        {
          ...state,
          MaxConcurrency: asked === 0 ? INLINE_MAP_CONCURRENCY : Math.min(asked, INLINE_MAP_CONCURRENCY),
        },
      ];
    }),
  );
  return { ...definition, States: limited };
}

/** Runs one night through the state machine; resolves with the report step's report. */
export async function runNightLocally(options: LocalNightOptions): Promise<PrewarmReport> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const stage = options.stage ?? 'local';
  const arnOf = (fn: StepFunction) =>
    `arn:aws:lambda:${region}:${account}:function:ecr-cache-keeper-${stage}-${fn}`;
  const definition = stateMachineDefinition(options.config, {
    prewarmPlan: arnOf('prewarmPlan'),
    warmImage: arnOf('warmImage'),
    prewarmReport: arnOf('prewarmReport'),
  });
  const invoke =
    (fn: StepFunction) =>
    async (input: JSONValue): Promise<JSONValue> => {
      options.authorizeInvoke?.(arnOf(fn));
      if (options.invokeOverheadMs) await sleep(options.invokeOverheadMs);
      const seconds = options.timeoutSeconds?.[fn] ?? DEFAULT_TIMEOUTS[fn](options.config);
      const context = localLambdaContext(fn, { remainingMs: seconds * 1000, account, stage });
      let output: unknown;
      try {
        output = await options.handlers[fn](asPayload(input), context);
      } catch (error) {
        throw asLambdaError(error);
      }
      return asPayload(output);
    };
  const machine = new StateMachine(withInlineMapLimit(definition) as never);
  const name = `local-${randomUUID()}`;
  const input = options.input ?? {};
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: {
        Plan: invoke('prewarmPlan'),
        WarmImage: invoke('warmImage'),
        Report: invoke('prewarmReport'),
      },
    },
    context: { Execution: { Name: name, StartTime: new Date().toISOString(), Input: input } } as never,
  });
  try {
    return (await execution.result) as unknown as PrewarmReport;
  } catch (error) {
    throw new ExecutionFailedError(
      `the pre-warm execution ${name} failed (${error instanceof Error ? error.name : 'error'}: ${errorMessage(error)}); it ran at most ${EXECUTION_TIMEOUT_SECONDS} s`,
      { cause: error },
    );
  }
}
