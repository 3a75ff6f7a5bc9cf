import { renameSync, writeFileSync } from 'node:fs';

/** Writes a file whole or not at all (beside it, then renamed): a reader never sees half of it. */
export function writeFileWhole(path: string, text: string): void {
  const partial = `${path}.cache-keeper-partial`;
  writeFileSync(partial, text);
  renameSync(partial, path);
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
