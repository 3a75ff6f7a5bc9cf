/** cache-keeper suggest [--days N] [--config-lines]: what the pre-warm list misses, and carries for nothing. */
import { formatSuggestions, suggestImages } from '../../lib/prewarm/suggest.js';
import type { CommandDeps } from '../deps.js';
import type { CliIo } from '../io.js';

export async function suggestCommand(
  deps: CommandDeps,
  io: CliIo,
  options: { days?: string; configLines: boolean; json: boolean },
): Promise<number> {
  const days = options.days === undefined ? 7 : Number(options.days);
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    io.err(`cache-keeper suggest: --days takes a whole number of days from 1 to 365, not "${options.days}"`);
    return 2;
  }
  const report = await suggestImages(deps.ecr, deps.config, { now: deps.now(), pulledWithinDays: days });
  io.out(options.json ? JSON.stringify(report, null, 2) : formatSuggestions(report, options.configLines));
  return 0;
}
