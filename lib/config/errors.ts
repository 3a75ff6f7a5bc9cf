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
