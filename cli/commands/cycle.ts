/** cache-keeper cycle [--json]: the nightly cycle against the sandbox (what `npm start` runs). */
import { formatImageLine } from '../../lib/prewarm/report.js';
import { runCycle } from '../cycle/run.js';
import { formatCycle } from '../cycle/summary.js';
import type { CliIo } from '../io.js';

export async function cycleCommand(io: CliIo, options: { json: boolean; config?: string }): Promise<number> {
  const progress = io.isTty && !options.json;
  const result = await runCycle({
    config: options.config,
    onStep: progress ? (text) => io.out(`» ${text}`) : undefined,
    onImage: progress
      ? (image, done, total, night) =>
          io.out(`   night ${night} [${String(done).padStart(2)}/${total}] ${formatImageLine(image)}`)
      : undefined,
  });
  io.out(options.json ? JSON.stringify(result, null, 2) : formatCycle(result));
  return result.ok ? 0 : 1;
}
