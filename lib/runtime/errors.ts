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

/** Marks a handler whose capability has not been built yet; it fails loudly rather than pretending. */
export class NotImplementedError extends KeeperError {
  override name = 'NotImplementedError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '')
    throw new EnvironmentError(`environment variable ${name} is not set`);
  return value;
}
