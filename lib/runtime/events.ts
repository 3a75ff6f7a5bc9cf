/**
 * Shapes of the events the handlers accept, checked strictly: a typo in a manual invoke is an
 * error, and an option that cannot be honoured is refused, never dropped.
 */
import { InvalidEventError } from './errors.js';

/** The fields EventBridge puts around every event it delivers (a scheduled rule's event too). */
const EVENTBRIDGE_ENVELOPE = new Set([
  'version',
  'id',
  'detail-type',
  'source',
  'account',
  'time',
  'region',
  'resources',
  'detail',
]);

/** EventBridge scheduled events (`detail-type: Scheduled Event`). */
export function isScheduledEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event'
  );
}

type OptionType = 'boolean' | 'string' | 'string[]' | 'number';
type OptionValues<T extends Record<string, OptionType>> = Partial<{
  [K in keyof T]: T[K] extends 'boolean'
    ? boolean
    : T[K] extends 'number'
      ? number
      : T[K] extends 'string[]'
        ? string[]
        : string;
}>;

const describeType = (type: OptionType) => (type === 'string[]' ? 'a list of strings' : `a ${type}`);
const quoteKey = (key: string) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);

/**
 * The options of an invocation: a manual-invoke payload (an object with only the given keys, each
 * of the given type), or a scheduled event, whose own EventBridge fields are skipped and whose
 * other top-level keys are options like a manual payload's (`{"detail-type": "Scheduled Event",
 * "dryRun": true}` is a dry run).
 */
export function parseOptions<T extends Record<string, OptionType>>(
  functionName: string,
  event: unknown,
  shape: T,
): OptionValues<T> {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError(
      `${functionName}: the event must be a JSON object (got ${Array.isArray(event) ? 'an array' : typeof event})`,
    );
  }
  const scheduled = isScheduledEvent(event);
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const allowed = Object.keys(shape);
  for (const [key, value] of Object.entries(event)) {
    if (scheduled && EVENTBRIDGE_ENVELOPE.has(key)) {
      const detail = key === 'detail' ? value : undefined;
      if (detail && typeof detail === 'object' && Object.keys(detail).length > 0)
        problems.push('options in "detail" are not read: put them at the top level of the event');
      continue;
    }
    // Own keys only: "__proto__" or "constructor" are unknown keys, not Object.prototype's members.
    const type = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!type) {
      problems.push(
        `unknown key ${quoteKey(key)} (allowed: ${allowed.length ? allowed.join(', ') : 'none; this function takes no options'})`,
      );
      continue;
    }
    const ok =
      type === 'string[]'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : typeof value === type && !(type === 'number' && !Number.isFinite(value));
    if (!ok) problems.push(`event.${key} must be ${describeType(type)}`);
    else out[key] = value;
  }
  if (problems.length) throw new InvalidEventError(`${functionName}: ${problems.join('; ')}`);
  return out as OptionValues<T>;
}
