/**
 * Every call an invocation makes ends before its deadline: the handler wrapper (handler.ts) hands
 * each invocation its AWS clients and fetch bounded here, so a call still hanging near the end fails
 * in time, naming itself, instead of running into Lambda's timeout with nothing said.
 */
import type { AwsClients } from '../aws/clients.js';
import { DeadlineError, errorMessage } from './errors.js';

type Sendable = { send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown> };

/**
 * The client as it is, except that a call made without an abort signal gets one that fires at
 * `until`: a call still hanging then fails in time, as a DeadlineError naming it, instead of running
 * into Lambda's timeout with nothing said. Calls that carry their own signal (the pre-warm's) keep it.
 */
export function boundedClient<C extends Sendable>(client: C, until: number, service: string): C {
  return new Proxy(client, {
    get(target, property) {
      if (property !== 'send') return Reflect.get(target, property, target);
      return (command: object, options?: { abortSignal?: AbortSignal }) => {
        if (options?.abortSignal) return target.send(command, options);
        // AbortSignal.timeout takes whole milliseconds only.
        const signal = AbortSignal.timeout(Math.max(0, Math.floor(until - Date.now())));
        return Promise.resolve(target.send(command, { ...options, abortSignal: signal })).catch(
          (error: unknown) => {
            if (!signal.aborted) throw error;
            const call = command.constructor.name.replace(/Command$/, '');
            throw new DeadlineError(`${service} ${call} cut short at the invocation's deadline`, {
              cause: new Error(errorMessage(error)),
            });
          },
        );
      };
    },
  });
}

/**
 * `fetch` as it is, except that a request made without a signal of its own gets one that fires at
 * `until` (on its body too), failing as a DeadlineError naming the request: Docker Hub and its
 * Hub API, for the check and the rotation.
 */
export function boundedFetch(fetchImpl: typeof fetch, until: number): typeof fetch {
  return (input, init) => {
    if (init?.signal) return fetchImpl(input, init);
    const signal = AbortSignal.timeout(Math.max(0, Math.floor(until - Date.now())));
    return fetchImpl(input, { ...init, signal }).catch((error: unknown) => {
      if (!signal.aborted) throw error;
      const url = new URL(input instanceof Request ? input.url : String(input));
      throw new DeadlineError(
        `${init?.method ?? 'GET'} ${url.host}${url.pathname} cut short at the invocation's deadline`,
        {
          cause: new Error(errorMessage(error)),
        },
      );
    });
  };
}

/**
 * The invocation's AWS clients (whichever of ecr, secrets and cloudwatch `deps` has) and `fetch`,
 * each bounded. The work's calls (ECR, Secrets Manager, HTTP) end a tenth of the budget (at most
 * 2 s) before the deadline, leaving time to publish the metrics, log and return; CloudWatch's (the
 * metrics, published last) end a fortieth (at most 0.5 s) before it, leaving time to log and return.
 */
export function boundedByDeadline(
  deps: Partial<AwsClients> & { fetch?: typeof fetch },
  invocation: { deadline: number; budgetMs: number },
): Partial<AwsClients> & { fetch?: typeof fetch } {
  const { deadline, budgetMs } = invocation;
  const work = deadline - Math.min(2_000, budgetMs / 10);
  const publish = deadline - Math.min(500, budgetMs / 40);
  const out: Partial<AwsClients> & { fetch?: typeof fetch } = {};
  if (deps.ecr) out.ecr = boundedClient(deps.ecr, work, 'ECR');
  if (deps.secrets) out.secrets = boundedClient(deps.secrets, work, 'Secrets Manager');
  if (deps.cloudwatch) out.cloudwatch = boundedClient(deps.cloudwatch, publish, 'CloudWatch');
  if (deps.fetch) out.fetch = boundedFetch(deps.fetch, work);
  return out;
}
