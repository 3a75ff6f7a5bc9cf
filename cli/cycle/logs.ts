/**
 * While the cycle runs handlers, their JSON log lines go to a log file (and to `onEntry`, which
 * drives the progress display) instead of the terminal; everything else still reaches the screen.
 */
import { appendFileSync } from 'node:fs';

export type LogEntry = Record<string, unknown> & { level: string; message: string };

export async function withCapturedLogs<T>(
  logFile: string,
  onEntry: (entry: LogEntry) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (!text.startsWith('{"level"')) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    appendFileSync(logFile, text.endsWith('\n') ? text : `${text}\n`);
    for (const line of text.split('\n').filter(Boolean)) {
      try {
        onEntry(JSON.parse(line) as LogEntry);
      } catch {
        // not a log line after all
      }
    }
    return true;
  }) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = original;
  }
}
