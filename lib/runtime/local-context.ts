/**
 * A Lambda context for invoking a handler in this process (the nightly cycle, local state machine runs, the tests): what the
 * handlers read of it is the request id, the remaining time and the function's own ARN.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LocalContextOptions {
  remainingMs?: number;
  requestId?: string;
  account?: string;
  /** The deployment's name for the function: `ecr-cache-keeper-<stage>-<fn>`. */
  stage?: string;
}

export function localLambdaContext(functionName: string, options: LocalContextOptions = {}): Context {
  const deadline = Date.now() + (options.remainingMs ?? 60_000);
  const name = `ecr-cache-keeper-${options.stage ?? 'local'}-${functionName}`;
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${options.account ?? '123456789012'}:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
