/**
 * The one upstream login probe: does this credential log in to the rule's upstream? One attempt
 * only, since Docker Hub throttles failed logins per username (a 10-minute cooldown), so a retry
 * loop on a 401 would lock out the very repair that would fix it. Docker Hub issues a token even
 * for scopes the account lacks: a success proves the credential, nothing more.
 */
import type { DesiredRule } from '../config/load.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import { type Endpoints, upstreamBaseUrl } from '../registry/upstreams.js';
import { errorMessage } from '../runtime/errors.js';
import type { DockerHubCredential } from './secret.js';

/** Docker Hub's documented quota probe repository; any repository works for a login. */
export const PROBE_REPOSITORY = 'ratelimitpreview/test';

export type LoginOutcome = 'ok' | 'refused' | 'unreachable';

export interface LoginProbe {
  outcome: LoginOutcome;
  /** What went wrong, for a person (never the credential). */
  problem?: string;
  error?: RegistryError | Error;
}

export async function probeUpstreamLogin(
  rule: DesiredRule,
  credential: DockerHubCredential,
  deps: { fetch?: typeof fetch; endpoints?: Endpoints } = {},
): Promise<LoginProbe> {
  const client = new RegistryClient({
    baseUrl: upstreamBaseUrl(rule.upstreamUrl, deps.endpoints),
    credentials: { username: credential.username, password: credential.accessToken },
    attempts: 1,
    fetch: deps.fetch,
  });
  try {
    await client.login(rule.upstream === 'docker-hub' ? PROBE_REPOSITORY : 'library/alpine');
    return { outcome: 'ok' };
  } catch (error) {
    // Refused: the credentials (or a throttle on failed logins), or a token too large to send at all.
    const tooLarge =
      error instanceof RegistryError && (error.details.status === 413 || error.details.status === 431);
    if (
      error instanceof RegistryError &&
      (error.kind === 'auth' || error.kind === 'rate-limited' || tooLarge)
    ) {
      return { outcome: 'refused', problem: `upstream login refused: ${error.message}`, error };
    }
    return {
      outcome: 'unreachable',
      problem: `upstream not reachable: ${errorMessage(error)}`,
      error: error as Error,
    };
  }
}
