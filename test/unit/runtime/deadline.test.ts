/** boundedClient: a call without a signal of its own ends at the bound, as a DeadlineError naming it. */
import { describe, expect, it } from 'vitest';
import { boundedClient } from '../../../lib/runtime/deadline.js';
import { DeadlineError, isTransientAwsError } from '../../../lib/runtime/errors.js';

class DescribeThingsCommand {}

/** A client whose calls hang until their signal fires, and record the signal they were given. */
function hangingClient() {
  const signals: Array<AbortSignal | undefined> = [];
  return {
    signals,
    send(_command: object, options?: { abortSignal?: AbortSignal }) {
      signals.push(options?.abortSignal);
      return new Promise((_, reject) =>
        options?.abortSignal?.addEventListener('abort', () => reject(new Error('Request aborted'))),
      );
    },
  };
}

describe('boundedClient', () => {
  it('cuts a hanging call short at the bound (a fraction of a millisecond away too), naming it', async () => {
    const client = boundedClient(hangingClient(), Date.now() + 20.5, 'ECR');
    const call = client.send(new DescribeThingsCommand());
    await expect(call).rejects.toThrow(DeadlineError);
    await expect(call).rejects.toThrow("ECR DescribeThings cut short at the invocation's deadline");
  });

  it('leaves a call that brings its own signal to it', () => {
    const raw = hangingClient();
    const own = new AbortController();
    const call = boundedClient(raw, Date.now(), 'ECR').send(new DescribeThingsCommand(), {
      abortSignal: own.signal,
    });
    call.catch(() => undefined); // it fails once its own signal fires, below
    expect(raw.signals).toEqual([own.signal]);
    own.abort();
  });

  it('passes other failures and answers through as they are', async () => {
    const denied = Object.assign(new Error('no'), { name: 'AccessDeniedException' });
    const failing = boundedClient(
      { send: (_c: object) => Promise.reject(denied) },
      Date.now() + 60_000,
      'ECR',
    );
    await expect(failing.send(new DescribeThingsCommand())).rejects.toBe(denied);
    const answering = boundedClient(
      { send: async (_c: object) => ({ things: 1 }) },
      Date.now() + 60_000,
      'ECR',
    );
    await expect(answering.send(new DescribeThingsCommand())).resolves.toEqual({ things: 1 });
  });
});

describe('isTransientAwsError: what says nothing about the request', () => {
  const named = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, ...extra });
  it.each([
    ['throttled', named('ThrottlingException', { $metadata: {} }), true],
    ['a 5xx', named('ServerException', { $metadata: {}, $fault: 'server' }), true],
    ['cut short at the deadline', new DeadlineError('ECR X cut short'), true],
    ['connection refused', named('Error', { code: 'ECONNREFUSED' }), true],
    ['access denied', named('AccessDeniedException', { $metadata: {}, $fault: 'client' }), false],
    [
      'a rule that does not exist',
      named('PullThroughCacheRuleNotFoundException', { $metadata: {}, $fault: 'client' }),
      false,
    ],
    // A bug of ours is not an outage: it must not hide as "unverified".
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')"), false],
    ['no credentials', named('CredentialsProviderError'), false],
  ])('%s: %s', (_what, error, transient) => {
    expect(isTransientAwsError(error)).toBe(transient);
  });
});
