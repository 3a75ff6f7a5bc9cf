import type * as z from 'zod';
import { KeeperError } from '../runtime/errors.js';

/** Config problems, each with the path in the file where it is. */
export interface ConfigProblem {
  /** Where in the file: `rules[1].prefix`, or `(file)` for the document as a whole. */
  path: string;
  message: string;
}

export class ConfigError extends KeeperError {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
    );
  }
}

/** `['rules', 1, 'prefix']` → `rules[1].prefix`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(top level)';
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out === '' ? String(part) : `${out}.${String(part)}`;
  }, '');
}

/** A value as a problem may show it: short values whole, others by their kind and size. */
function described(value: unknown): string {
  if (value === null) return 'empty (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return value.length <= 40
      ? `the string ${JSON.stringify(value)}`
      : `a string of ${value.length} characters`;
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const EXPECTED: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
};

const units = (n: number | bigint, one: string, many: string) => `${n} ${Number(n) === 1 ? one : many}`;

/**
 * The words for a validator's issue the schema gave none of its own for (zod's per-parse error
 * map: the schema's own messages win over it), with the limit and what was found. Undefined
 * leaves zod's.
 */
export function plainIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const found = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'invalid_type':
      if (found === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${described(found)}`;
    case 'too_small':
    case 'too_big': {
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const least = issue.code === 'too_small';
      if (issue.origin === 'number' || issue.origin === 'int')
        return `must be ${issue.inclusive === false ? (least ? 'more than' : 'less than') : least ? 'at least' : 'at most'} ${limit}, not ${described(found)}`;
      if (issue.origin === 'string')
        return `must be ${least ? 'at least' : 'at most'} ${units(limit as number, 'character', 'characters')} long`;
      if (issue.origin === 'array')
        return `must have ${least ? 'at least' : 'at most'} ${units(limit as number, 'entry', 'entries')}`;
      return undefined;
    }
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${typeof found === 'string' ? JSON.stringify(found.slice(0, 40)) : described(found)}`;
    default:
      return undefined;
  }
}
