/**
 * The distribution token flow. Realm, service and scope always come from the server's
 * `WWW-Authenticate` challenge, never from a hard-coded host.
 */
export interface Challenge {
  scheme: 'bearer' | 'basic';
  realm?: string;
  service?: string;
  scope?: string;
  error?: string;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g))
    params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme, realm: params.realm, service: params.service, scope: params.scope, error: params.error };
}

/** Credentials for a registry: a username and secret, or a ready Basic value (ECR's auth token). */
export type RegistryCredentials = { username: string; password: string } | { basic: string };

export function basicValue(credentials: RegistryCredentials): string {
  return 'basic' in credentials
    ? credentials.basic
    : Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
}
