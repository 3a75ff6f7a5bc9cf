/** A CliIo that records what the command printed, with optional standard input. */
import type { CliIo } from '../../cli/io.js';

export function captureIo(stdin = ''): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), isTty: false, readStdin: async () => stdin },
    out,
    err,
  };
}
