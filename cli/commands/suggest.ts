/**
 * cache-keeper suggest [FILE…] [--days N] [--config-lines]: what the pre-warm list misses, and
 * carries for nothing, from ECR's record of pulls; given files, what they pull that it misses.
 */
import { readFileSync } from 'node:fs';
import { fileKind, passedOverLine, sourceFiles } from '../../lib/ci/source-files.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { formatSuggestions, suggestImages } from '../../lib/prewarm/suggest.js';
import type { CommandDeps } from '../deps.js';
import type { CliIo } from '../io.js';

export interface SuggestOptions {
  days?: string;
  configLines: boolean;
  json: boolean;
  /** Files to read instead of ECR's record of pulls. */
  files: string[];
  /** With files: the cache's registry host, for references already pointed at it. */
  registry?: string;
  config: () => KeeperConfig;
}

export async function suggestCommand(
  deps: () => CommandDeps,
  io: CliIo,
  options: SuggestOptions,
): Promise<number> {
  if (options.files.length) return suggestFromFilesCommand(io, options);
  const days = options.days === undefined ? 7 : Number(options.days);
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    io.err(`cache-keeper suggest: --days takes a whole number of days from 1 to 365, not "${options.days}"`);
    return 2;
  }
  const { ecr, config, now } = deps();
  const report = await suggestImages(ecr, config, { now: now(), pulledWithinDays: days });
  io.out(options.json ? JSON.stringify(report, null, 2) : formatSuggestions(report, options.configLines));
  return 0;
}

/** No AWS: the files alone, against the config's rules and list. */
async function suggestFromFilesCommand(io: CliIo, options: SuggestOptions): Promise<number> {
  const { files, problems, passedOver } = sourceFiles(options.files);
  if (options.days !== undefined)
    problems.push("--days reads ECR's record of pulls: it does not go with files");
  if (problems.length) {
    for (const p of problems) io.err(`cache-keeper suggest: ${p}`);
    return 2;
  }
  const { formatFileSuggestions, suggestFromFiles } = await import('../../lib/prewarm/suggest-files.js');
  const report = suggestFromFiles(
    options.config(),
    files.map((path) => ({ path, kind: fileKind(path)!, text: readFileSync(path, 'utf8') })),
    { registryHost: options.registry },
  );
  for (const p of passedOver) io.err(`cache-keeper suggest: ${passedOverLine(p)}`);
  io.out(options.json ? JSON.stringify(report, null, 2) : formatFileSuggestions(report, options.configLines));
  // A file it could not read may pull more: done, but something is wrong.
  return report.unreadable.length ? 1 : 0;
}
