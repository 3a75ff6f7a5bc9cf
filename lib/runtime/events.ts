/** Shapes of the events the handlers accept, checked strictly: a typo in a manual invoke is an error. */
import { InvalidEventError } from './errors.js';

/** EventBridge scheduled events (`detail-type: Scheduled Event`) carry no options. */
export function isScheduledEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event'
  );
}

/** A manual-invoke payload: an object with only the given keys, each of the given type. */
export function parseOptions<T extends Record<string, 'boolean' | 'string' | 'string[]' | 'number'>>(
  functionName: string,
  event: unknown,
  shape: T,
): Partial<{
  [K in keyof T]: T[K] extends 'boolean'
    ? boolean
    : T[K] extends 'number'
      ? number
      : T[K] extends 'string[]'
        ? string[]
        : string;
}> {
  if (event === undefined || event === null || isScheduledEvent(event)) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError(
      `${functionName}: the event must be a JSON object (got ${Array.isArray(event) ? 'an array' : typeof event})`,
    );
  }
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(event)) {
    const type = shape[key];
    if (!type) {
      problems.push(`unknown key "${key}" (allowed: ${Object.keys(shape).join(', ')})`);
      continue;
    }
    const ok =
      type === 'string[]'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : typeof value === type && !(type === 'number' && !Number.isFinite(value));
    if (!ok) problems.push(`event.${key} must be ${type === 'string[]' ? 'a list of strings' : `a ${type}`}`);
    else out[key] = value;
  }
  if (problems.length) throw new InvalidEventError(`${functionName}: ${problems.join('; ')}`);
  return out as ReturnType<typeof parseOptions<T>>;
}
