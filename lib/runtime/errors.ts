/** Error classes shared across domains. Each names what went wrong and keeps its `cause`. */
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
