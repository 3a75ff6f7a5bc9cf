/**
 * The keeper's one error family. Every error names what went wrong, ends in `Error`, extends
 * `KeeperError` and keeps its `cause`, so the original AWS or HTTP error is never lost; except where
 * the cause could quote secret text (see `describeJsonError`).
 */
export class KeeperError extends Error {
  override name = 'KeeperError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The invocation event did not have the documented shape. */
export class InvalidEventError extends KeeperError {
  override name = 'InvalidEventError';
}

/** A required environment variable is missing or malformed. */
export class EnvironmentError extends KeeperError {
  override name = 'EnvironmentError';
}

/**
 * Stands in for a JSON parser's error when the text parsed may be secret: V8's message quotes the
 * input around the bad character ("Unexpected token 'S', \"…\"password\":S3cr3t-Adm\"… is not valid
 * JSON"), so only the position and the kind of problem are kept.
 */
export class JsonSyntaxError extends KeeperError {
  override name = 'JsonSyntaxError';
}

/** Parses JSON that may hold a secret; a failure names the position, never the text. */
export function parseSecretJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw describeJsonError(error, text);
  }
}

export function describeJsonError(error: unknown, text: string): JsonSyntaxError {
  const message = error instanceof Error ? error.message : '';
  const position = /position (\d+)/.exec(message)?.[1];
  const kind =
    text.trim() === ''
      ? 'empty text'
      : /Unexpected end/i.test(message)
        ? 'text ends early'
        : 'unexpected character';
  return new JsonSyntaxError(
    `not valid JSON (${kind}${position !== undefined ? ` at position ${position}` : ''}, ${text.length} characters)`,
  );
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Where an AWS client records which call failed (lib/aws/clients.ts, namingFailures). */
export const OPERATION = '$keeperOperation';

/** The AWS call an error came from (`ECR DescribeImages`), when a keeper-built client made it. */
export const awsOperation = (error: unknown): string | undefined =>
  (error as Record<string, unknown> | null)?.[OPERATION] as string | undefined;

/** The AWS SDK's exception name (`RepositoryNotFoundException`…), when the error has one. */
export const awsErrorName = (error: unknown): string | undefined => (error as { name?: string } | null)?.name;

/** An AWS error as `Name: message`, or its name alone when it says nothing more. */
export const awsFailure = (error: unknown): string => {
  const name = awsErrorName(error) ?? 'Error';
  const message = (error as { message?: string } | null)?.message;
  return message && message !== name ? `${name}: ${message}` : name;
};

/**
 * The call's result, or undefined when it fails with one of `names` (an AWS error saying there is
 * nothing: `RepositoryPolicyNotFoundException`, or nothing left to do: `…AlreadyExistsException`).
 */
export async function unlessNamed<T>(call: Promise<T>, ...names: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (names.includes(awsErrorName(error) ?? '')) return undefined;
    throw error;
  }
}

/** A call cut short because the invocation's time was running out: never retried. */
export class DeadlineError extends KeeperError {
  override name = 'DeadlineError';
}

/** Node's codes for a connection that gave no answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/** The names AWS services give throttling (ECR's registry and APIs, and the SDK's own). */
export const AWS_THROTTLING = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ThrottledException',
]);

/**
 * An AWS call that failed for a reason of the moment, not of what it asked: throttling, a 5xx, a
 * timeout, a dropped connection or a request cut short. Its answer says nothing about the request.
 */
export function isTransientAwsError(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $metadata?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (AWS_THROTTLING.has(e.name ?? '') || e.$fault === 'server') return true;
  const timedOut = [
    'DeadlineError',
    'TimeoutError',
    'AbortError',
    'RequestTimeout',
    'RequestTimeoutException',
  ];
  if (timedOut.includes(e.name ?? '')) return true;
  // No answer at all: a connection refused, reset or timed out (a bug in our code is none of these).
  const code = (e as { code?: string }).code ?? '';
  return !('$metadata' in e) && NETWORK_CODES.has(code);
}
