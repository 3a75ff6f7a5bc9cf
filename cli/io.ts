import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes a file whole or not at all (beside it, then renamed): a reader never sees half of it. */
export function writeFileWhole(path: string, text: string): void {
  writeFilesWhole([{ path, text }]);
}

/**
 * Writes files all or none: each beside its place first (`makeDirs`: creating its directory), and
 * only when all are written is each renamed over its place; on a failure the written ones go and
 * the error (naming the path) is thrown, leaving every file as it was.
 */
export function writeFilesWhole(
  files: Array<{ path: string; text: string }>,
  options: { makeDirs?: boolean } = {},
): void {
  const partial = (path: string) => `${path}.cache-keeper-partial`;
  const written: string[] = [];
  try {
    for (const { path, text } of files) {
      if (options.makeDirs) mkdirSync(dirname(path), { recursive: true });
      writeFileSync(partial(path), text);
      written.push(partial(path));
    }
  } catch (error) {
    for (const path of written) rmSync(path, { force: true });
    throw error;
  }
  for (const { path } of files) renameSync(partial(path), path);
}

/** Where the CLI writes: a terminal by default, a buffer in tests. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal (progress displays). */
  isTty: boolean;
  /** All of standard input (tokens are never passed as arguments). */
  readStdin: () => Promise<string>;
  /** Asks a question on the terminal and returns the answer line (only used when isTty). */
  prompt?: (question: string) => Promise<string>;
}

export const stdio: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  isTty: Boolean(process.stdout.isTTY),
  prompt: async (question) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};
