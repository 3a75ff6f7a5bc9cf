import { KeeperError } from '../runtime/errors.js';

/** What a registry answer meant, so callers can decide: retry, defer, or report. */
export type RegistryErrorKind =
  | 'auth' // 401/403 after a fresh token: bad credentials, or (Docker Hub) a repository that does not exist
  | 'not-found' // 404: unknown repository, tag or blob
  | 'rate-limited' // 429 TOOMANYREQUESTS: never retried in a loop
  | 'server' // 5xx: retried with backoff
  | 'network' // connection failed or dropped: retried with backoff
  | 'digest-mismatch' // bytes did not hash to the digest the registry announced
  | 'protocol' // an answer that does not follow the distribution spec
  | 'aborted'; // cut short by the caller's deadline: never retried

export class RegistryError extends KeeperError {
  override name = 'RegistryError';
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly details: {
      status?: number;
      code?: string;
      url?: string;
      retryAfterSeconds?: number;
      /** The token realm refused the credentials themselves (not access to one repository). */
      credentialsRejected?: boolean;
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.kind === 'server' || this.kind === 'network';
  }
}

export const isRetryableRegistryError = (error: unknown) => error instanceof RegistryError && error.retryable;
