/**
 * Secrets never reach a log line, an error message, a report or a metric. Two nets: keys that name
 * a secret are masked wherever they appear, and every secret value the keeper reads is registered
 * so that the value itself is masked wherever it turns up (inside a URL, an upstream error text…).
 */
import { awsOperation } from './errors.js';

const SECRET_KEY =
  /(token|password|secret(?!Name|Arn|Id)|authorization|credential(?!Secret)|passphrase|apikey)/i;
const SAFE_KEYS = new Set([
  'secretName',
  'credentialSecret',
  'adminSecret',
  'SecretId',
  'tokenLabel',
  'token_label',
  'ClientRequestToken',
  'nextToken',
  'tokenUuid',
  'patUuid',
]);
const PAT_PATTERN = /dckr_(?:pat|oat)_[A-Za-z0-9_-]+/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const MASK = '[redacted]';

const knownSecrets = new Set<string>();

/** Registers a secret value (a PAT, a password, an auth token) so that it is masked everywhere. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

export function redactText(text: string): string {
  let out = text.replace(PAT_PATTERN, MASK).replace(BEARER, `$1 ${MASK}`);
  for (const secret of knownSecrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const operation = awsOperation(value);
    return {
      name: value.name,
      ...(operation ? { operation } : {}),
      message: redactText(value.message),
      ...(value.cause !== undefined ? { cause: redact(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) &&
      !SAFE_KEYS.has(key) &&
      v !== undefined &&
      v !== null &&
      typeof v !== 'boolean' &&
      typeof v !== 'number'
        ? MASK
        : redact(v, depth + 1);
  }
  return out;
}
