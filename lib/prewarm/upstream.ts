/**
 * The upstream side of a warm: one registry client per rule, with the rule's credential, proven
 * once before any image uses it. With a bad token Docker Hub sees a single failed login per run
 * instead of one per image in flight (it throttles failed logins), and with a good one a single
 * token request covers every repository of the rule in the run.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DesiredRule } from '../config/load.js';
import { readCredentialValue, unreadableForNow } from '../credential/secret.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import { type Endpoints, upstreamBaseUrl } from '../registry/upstreams.js';
import { awsErrorName, errorMessage } from '../runtime/errors.js';

export interface Upstream {
  /** The quota it draws on: its registry and the account its credential names (`quotaKey`). */
  key: string;
  client?: RegistryClient;
  /** Set when the upstream credential cannot be used: nothing more is asked of this upstream. */
  unusable?: string;
  /**
   * Why the night asks this upstream nothing more though nothing is wrong with the credential: the
   * registry throttled the login (429: Docker Hub does so to a username after failed logins), or
   * Secrets Manager could not give the credential for now. The cache still serves what it holds:
   * the images are deferred, not failed.
   */
  stopped?: string;
  /**
   * After the credential in use was refused mid-run: true when the secret now holds another one
   * (a rotation meanwhile) and `client` logs in with it. Asked once a run; later callers share it.
   */
  renew?: () => Promise<boolean>;
}

/**
 * What a rule's pulls count against: its registry's limit for the account in its credential (or
 * for the caller's address, anonymous). Rules sharing both share one quota, and one reserve.
 */
export const quotaKey = (rule: Pick<DesiredRule, 'upstreamUrl' | 'credentialSecret'>): string =>
  `${rule.upstreamUrl} ${rule.credentialSecret ?? '(anonymous)'}`;

/**
 * Reads the rule's credential and asks the registry's challenge at once (neither sends a secret),
 * then, once `mayLogIn` says so (the run holds its lease), logs in with that challenge.
 */
export async function connectUpstream(
  rule: DesiredRule,
  repositories: string[],
  deps: {
    secrets: SecretsManagerClient;
    fetch?: typeof fetch;
    deadline: number;
    endpoints?: Endpoints;
    signal?: AbortSignal;
    mayLogIn?: Promise<boolean>;
  },
): Promise<Upstream> {
  const upstream: Upstream = { key: quotaKey(rule) };
  const clientOptions = {
    baseUrl: upstreamBaseUrl(rule.upstreamUrl, deps.endpoints),
    fetch: deps.fetch,
    deadline: deps.deadline,
    signal: deps.signal,
  };
  const challenge = new RegistryClient(clientOptions).challenge();
  challenge.catch(() => undefined); // its failure is the login's, below
  try {
    const credentials = rule.credentialSecret
      ? await readCredentialValue(deps.secrets, rule.credentialSecret)
      : undefined;
    upstream.client = new RegistryClient({
      ...clientOptions,
      credentials: credentials && { username: credentials.username, password: credentials.accessToken },
    });
    const secretId = rule.credentialSecret;
    if (secretId && credentials) {
      let renewal: Promise<boolean> | undefined;
      upstream.renew = () => {
        renewal ??= (async () => {
          const current = await readCredentialValue(deps.secrets, secretId);
          if (current.username === credentials.username && current.accessToken === credentials.accessToken)
            return false; // the same credential: a refusal of it stands
          const client = new RegistryClient({
            ...clientOptions,
            credentials: { username: current.username, password: current.accessToken },
          });
          await client.login(repositories);
          upstream.client = client;
          return true;
        })().catch(() => false);
        return renewal;
      };
    }
  } catch (error) {
    if (unreadableForNow(error))
      upstream.stopped = `credential secret ${rule.credentialSecret} could not be read for now (${awsErrorName((error as Error).cause)})`;
    else upstream.unusable = `credential secret unusable: ${errorMessage(error)}`;
    return upstream;
  }
  if (deps.mayLogIn && !(await deps.mayLogIn)) {
    upstream.unusable = 'the run did not start';
    return upstream;
  }
  try {
    await upstream.client.login(repositories, challenge);
  } catch (error) {
    if (error instanceof RegistryError && error.kind === 'auth' && error.details.credentialsRejected) {
      upstream.unusable = `upstream refused the credential (${error.message}); not retried, Docker Hub throttles failed logins`;
    } else if (error instanceof RegistryError && error.kind === 'rate-limited') {
      upstream.stopped = `upstream login throttled (${error.message})`;
    }
    // Other failures (5xx, network) are left to each image's own, retried, requests.
  }
  return upstream;
}
