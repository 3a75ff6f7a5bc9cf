/** The Lambda context the tests invoke handlers with (the cycle's own builder, stage "test"). */
import type { Context } from 'aws-lambda';
import { type LocalContextOptions, localLambdaContext } from '../../lib/runtime/local-context.js';

export function lambdaContext(functionName = 'test', options: LocalContextOptions = {}): Context {
  return localLambdaContext(functionName, { stage: 'test', requestId: 'test-request', ...options });
}

/** Built once per test file: most tests need no particular context. */
export const context = lambdaContext();
