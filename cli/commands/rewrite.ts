/** cache-keeper rewrite FILE|DIRECTORY… [--check] [--diff]: references of the cached registries → the cache's, in place. */
import { readFileSync } from 'node:fs';
import { fileKind, type RewriteResult, rewriteText, unifiedDiff } from '../../lib/ci/rewrite.js';
import { passedOverLine, sourceFiles } from '../../lib/ci/source-files.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { type CommandDeps, registryHost } from '../deps.js';
import { type CliIo, writeFilesWhole } from '../io.js';

export interface RewriteOptions {
  files: string[];
  /** Write nothing; exit 1 when a file would change (for CI). */
  check: boolean;
  /** Write nothing; print a unified diff of what would change. */
  diff: boolean;
  json: boolean;
  registry?: string;
  deps: () => CommandDeps;
}

export async function rewriteCommand(
  config: KeeperConfig,
  io: CliIo,
  options: RewriteOptions,
): Promise<number> {
  if (options.files.length === 0) {
    io.err(
      'cache-keeper rewrite: name at least one file or directory, e.g. cache-keeper rewrite . or cache-keeper rewrite Dockerfile docker-compose.yml',
    );
    return 2;
  }
  // Every file is checked before any is written: all or nothing.
  const { files, problems, passedOver } = sourceFiles(options.files);
  if (problems.length) {
    for (const p of problems) io.err(`cache-keeper rewrite: ${p}`);
    return 2;
  }
  const target = { registryHost: await registryHost(options), rules: config.rules };
  const results = files.map((path) => {
    const before = readFileSync(path, 'utf8');
    return { path, before, ...rewriteText(before, fileKind(path)!, target, path) };
  });
  const write = !options.check && !options.diff;
  if (write)
    writeFilesWhole(results.filter((r) => r.changes.length).map((r) => ({ path: r.path, text: r.output })));

  if (options.json) {
    io.out(
      JSON.stringify(
        results.map(({ path, kind, readable, changes, notes }) => ({ path, kind, readable, changes, notes })),
        null,
        2,
      ),
    );
  } else {
    for (const r of results) {
      if (options.diff && r.changes.length) io.out(unifiedDiff(r.path, r.before, r.output));
      else if (!options.diff) printChanges(io, r.path, r, write);
      for (const n of r.notes)
        io.err(
          `${r.path}:${n.line}: ${n.left ? 'left' : 'note'}${n.reference ? ` ${n.reference}` : ''}: ${n.note}`,
        );
    }
  }
  for (const p of passedOver) io.err(`cache-keeper rewrite: ${passedOverLine(p)}`);
  const changed = results.filter((r) => r.changes.length).length;
  const unreadable = results.filter((r) => !r.readable).length;
  const unread = unreadable ? `; ${unreadable} could not be read` : '';
  if (!options.json && !options.diff)
    io.out(
      write
        ? `${changed} of ${results.length} file(s) rewritten to ${target.registryHost}${unread}.`
        : `${changed} of ${results.length} file(s) would change${unread}.`,
    );
  // A file it could not read may still pull from the registries the rules cache: done, but wrong.
  return unreadable > 0 || (options.check && changed > 0) ? 1 : 0;
}

function printChanges(io: CliIo, path: string, result: RewriteResult, written: boolean): void {
  for (const c of result.changes)
    io.out(`${path}:${c.line}: ${c.from} → ${c.to}${written ? '' : ' (not written)'}`);
}
