/**
 * How every Lambda handler is made: `keeperHandler(name, parseEvent, run)` describes one, and the
 * result, given its dependencies (AWS clients, config, logger, fetch, clock, endpoints), is the
 * function Lambda calls. The Lambda entry point builds the dependencies once per container
 * (lib/runtime/lambda.ts); the CLI, the cycle and the tests hand in their own.
 *
 * middy carries the cross-cutting concerns as middleware: the invocation's log lines (started,
 * finished, or failed with the error and its cause, through the redactor), event validation, and
 * the deadline taken from Lambda's remaining time, so `run` receives a parsed event and an
 * `Invocation`.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../aws/clients.js';
import { boundedByDeadline } from './deadline.js';
import type { Runtime } from './deps.js';
import type { Logger } from './logger.js';

/** One invocation: the handler's dependencies, a logger with the request id, the deadline, Lambda's context. */
export type Invocation<Deps extends Runtime> = Deps & {
  /** Absolute time (ms) by which the invocation must have returned its report. */
  deadline: number;
  lambda: Context;
};

export type LambdaHandler<TResult> = (event: unknown, context: Context) => Promise<TResult>;

/** Without a Lambda context (a plain call), the budget is Lambda's longest: 15 minutes. */
const NO_CONTEXT_BUDGET_MS = 900_000;

interface InvocationState extends Record<string, unknown> {
  logger: Logger;
  started: number;
  deadline: number;
}
type Middleware = middy.MiddlewareObj<unknown, unknown, Error, Context, InvocationState>;

/**
 * Describes a handler; the result builds the Lambda function from its dependencies: the runtime
 * plus the AWS clients (and settings) that this handler's logic takes.
 */
export function keeperHandler<TEvent, TResult, Deps extends Runtime>(
  name: string,
  parseEvent: (event: unknown) => TEvent,
  run: (event: TEvent, invocation: Invocation<Deps>) => Promise<TResult>,
): (deps: Deps) => LambdaHandler<TResult> {
  return (deps) => {
    const functionLogger = deps.logger.child({ function: name });
    const invocationState: Middleware = {
      before: ({ context, internal }) => {
        const started = deps.now();
        const remaining =
          typeof context?.getRemainingTimeInMillis === 'function'
            ? context.getRemainingTimeInMillis()
            : NO_CONTEXT_BUDGET_MS;
        internal.logger = functionLogger.child({ requestId: context?.awsRequestId });
        internal.started = started;
        internal.deadline = started + remaining;
      },
      after: ({ internal }) => {
        internal.logger.info(`${name} finished`, { durationMs: deps.now() - internal.started });
      },
      onError: ({ internal, error }) => {
        (internal.logger ?? functionLogger).error(`${name} failed`, {
          error,
          durationMs: deps.now() - (internal.started ?? deps.now()),
        });
      },
    };
    // The parsed event travels to the handler together with this request's state (requests may overlap).
    const eventValidation: Middleware = {
      before: (request) => {
        const parsed: Parsed = { event: parseEvent(request.event), state: request.internal };
        request.event = parsed;
        request.internal.logger.info(`${name} started`);
      },
    };
    type Parsed = { event: TEvent; state: InvocationState };
    // The keeper returns its report before the deadline itself; middy's early timeout would throw it away.
    const lambda = middy<unknown, TResult, Error, Context, InvocationState>({ timeoutEarlyInMillis: 0 })
      .use([invocationState, eventValidation] as middy.MiddlewareObj[])
      .handler(async (parsed: unknown, context: Context) => {
        const { event, state } = parsed as Parsed;
        // Every AWS call and HTTP request without a signal of its own ends before the deadline (deadline.ts).
        const clients = boundedByDeadline(deps as Partial<AwsClients>, {
          deadline: state.deadline,
          budgetMs: state.deadline - state.started,
        });
        return run(event, {
          ...deps,
          ...clients,
          logger: state.logger,
          deadline: state.deadline,
          lambda: context,
        });
      });
    return (event, context) => lambda(event, context);
  };
}
