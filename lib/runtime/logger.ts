/**
 * Structured logs, always through the redactor. Each entry goes to a sink as data; the default sink
 * writes it to stdout as one JSON line (what CloudWatch Logs reads). The CLI's cycle hands in a sink
 * of its own to show progress and keep a log file.
 */
import { redact } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A log entry as the sink receives it: already redacted. */
export type LogEntry = Record<string, unknown> & { level: LogLevel; time: string; message: string };
export type LogSink = (entry: LogEntry) => void;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** `debug`, `info` (default), `warn` or `error`; case does not matter, anything else is `info`. */
  level?: string;
  sink?: LogSink;
  /** Shorthand for a sink that writes each entry as one JSON line to this writer. */
  write?: (line: string) => void;
  context?: Record<string, unknown>;
  /** The clock for the `time` field. */
  now?: () => number;
}

export const stdoutSink: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify(entry)}\n`);
};

/** A sink that keeps every entry, for tests and for callers that read the logs back as data. */
export function memorySink(): LogSink & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return Object.assign((entry: LogEntry) => void entries.push(entry), { entries });
}

function levelOf(text: string | undefined): LogLevel {
  const lower = text?.toLowerCase();
  return lower && lower in ORDER ? (lower as LogLevel) : 'info';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = levelOf(options.level);
  const write = options.write;
  const sink: LogSink = options.sink ?? (write ? (entry) => write(JSON.stringify(entry)) : stdoutSink);
  const now = options.now ?? Date.now;
  const context = options.context ?? {};
  const log =
    (lvl: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[lvl] < ORDER[level]) return;
      sink(
        redact({
          level: lvl,
          time: new Date(now()).toISOString(),
          message,
          ...context,
          ...fields,
        }) as LogEntry,
      );
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger({ level, sink, now, context: { ...context, ...fields } }),
  };
}
