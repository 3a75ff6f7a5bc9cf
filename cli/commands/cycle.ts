/** cache-keeper cycle [--json [FILE]]: the nightly cycle against the sandbox (what `npm start` runs). */
import { formatImageLine } from '../../lib/prewarm/report.js';
import { runCycle } from '../cycle/run.js';
import { formatCycle } from '../cycle/summary.js';
import { type CliIo, writeFileWhole } from '../io.js';

export async function cycleCommand(
  io: CliIo,
  options: { json: boolean; jsonFile?: string; config?: string },
): Promise<number> {
  // With a file, the JSON goes there and the terminal keeps the readable summary: `npm start --
  // --json FILE` gives pure JSON although npm prints its banner on stdout.
  const jsonOnStdout = options.json && !options.jsonFile;
  const progress = io.isTty && !jsonOnStdout;
  const result = await runCycle({
    config: options.config,
    onStep: progress ? (text) => io.out(`» ${text}`) : undefined,
    onImage: progress
      ? (image, done, total, night) =>
          io.out(`   night ${night} [${String(done).padStart(2)}/${total}] ${formatImageLine(image)}`)
      : undefined,
  });
  if (options.jsonFile) writeFileWhole(options.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  io.out(jsonOnStdout ? JSON.stringify(result, null, 2) : formatCycle(result));
  if (options.jsonFile) io.out(`The result as JSON: ${options.jsonFile}`);
  return result.ok ? 0 : 1;
}
