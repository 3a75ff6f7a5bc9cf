/** The Lambda context the tests invoke handlers with (the cycle's own builder, stage "test"). */
import type { Context } from 'aws-lambda';
import { type LocalContextOptions, localLambdaContext } from '../../lib/runtime/local-context.js';

export function lambdaContext(functionName = 'test', options: LocalContextOptions = {}): Context {
  return localLambdaContext(functionName, { stage: 'test', requestId: 'test-request', ...options });
}

/**
 * Shared by the tests that need no particular context: every invocation with it has a minute left,
 * however long the file has run and whatever the (faked) clock says.
 */
export const context: Context = { ...lambdaContext(), getRemainingTimeInMillis: () => 60_000 };
