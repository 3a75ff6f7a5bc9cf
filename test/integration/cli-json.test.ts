/**
 * `--json` on every command: stdout parses as one JSON document and has the shape documented in
 * docs/operations.md ("Machine output"), read from that table so the doc cannot drift.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as runCliWith } from '../../cli/main.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { EXPIRES_DAY } from '../support/configs.js';
import { context } from '../support/lambda.js';
import { type SandboxDeps, sandboxDeps } from './support/sandbox-deps.js';

const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotateCredential';

/** The documented table: command line → "object" or "array of objects" and its top-level fields. */
function documentedShapes(): Map<string, { kind: string; fields: string[] }> {
  const doc = readFileSync('docs/operations.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Machine output'));
  const shapes = new Map<string, { kind: string; fields: string[] }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1]!.startsWith('`cache-keeper ')) continue;
    // "description: `field`, `field`": the fields are the names after the colon.
    const fields = [...cells[3]!.slice(cells[3]!.indexOf(': ')).matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    shapes.set(cells[1]!.slice(1, -1), { kind: cells[2]!, fields });
  }
  return shapes;
}

function shapeOf(value: unknown): { kind: string; fields: string[] } {
  if (Array.isArray(value))
    return { kind: 'array of objects', fields: value.length ? Object.keys(value[0]).sort() : [] };
  return { kind: 'object', fields: Object.keys(value as object).sort() };
}

/** A Dockerfile to rewrite, in a directory of its own. */
function rewriteFixture(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'keeper-json-rewrite-')), 'Dockerfile');
  writeFileSync(file, 'FROM node:22\n');
  return file;
}

let sandbox: Sandbox;
let kit: SandboxDeps;
let configPath: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-json-'));
  configPath = join(dir, 'keeper.config.yaml');
  writeFileSync(
    configPath,
    readFileSync('keeper.config.yaml', 'utf8').replace('mode: managed', 'mode: staged'),
  );
  sandbox = await startSandbox();
  kit = sandboxDeps(sandbox, configPath);
  const rotateHandler = createRotateCredentialHandler(kit.as('rotateCredential'));
  sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => rotateHandler(event, context));
});
afterAll(async () => {
  await sandbox.stop();
});

describe('--json on every command', () => {
  const shapes = documentedShapes();
  /** What each documented command line needs to run here (in this order: the rules exist before pre-warm). */
  const runs: Array<[string, string[]]> = [
    ['cache-keeper validate', []],
    ['cache-keeper plan', []],
    ['cache-keeper apply', ['--auto-approve']],
    ['cache-keeper prewarm', ['node:22-alpine']],
    ['cache-keeper prewarm --dry-run', []],
    ['cache-keeper prewarm --fan-out', ['alpine:3.20']],
    ['cache-keeper check', []],
    ['cache-keeper credential record', ['--expires-at', EXPIRES_DAY]],
    ['cache-keeper credential stage', ['--expires-at', EXPIRES_DAY, '--rotation-lambda-arn', ROTATION_ARN]],
    ['cache-keeper rotate', ['--rotation-lambda-arn', ROTATION_ARN, '--wait', '2']],
    ['cache-keeper credential cleanup', []],
    ['cache-keeper metrics', []],
    ['cache-keeper uri', ['node:22']],
    ['cache-keeper mirror-config', ['--for', 'containerd']],
    ['cache-keeper suggest', []],
    ['cache-keeper suggest FILE…', [rewriteFixture()]],
    ['cache-keeper rewrite', [rewriteFixture()]],
    [
      'cache-keeper ci-snippet',
      ['--for', 'gitlab', '--registry', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ],
  ];

  it('documents exactly the commands run here', () => {
    expect([...shapes.keys()].sort()).toEqual([...runs.map(([c]) => c), 'cache-keeper cycle'].sort());
  });

  it('cache-keeper cycle --json (its own sandbox and config)', async () => {
    const run = captureIo();
    await runCliWith(['cycle', '--json'], run.io);
    expect(shapeOf(JSON.parse(run.out.join('\n')))).toEqual(shapes.get('cache-keeper cycle'));
  });

  it.each(runs)('%s --json', async (commandLine, extra) => {
    // A placeholder in the documented line (FILE…) stands for the files `extra` gives.
    const words = commandLine
      .split(' ')
      .slice(1)
      .filter((w) => !/^[A-Z]+…$/.test(w));
    let stdin = '';
    if (words.includes('stage')) {
      const user = sandbox.hubAccounts.users.get(sandbox.seeded!.username)!;
      stdin = `${sandbox.hubAccounts.createPat(user, 'staged', ['repo:public_read'], `${EXPIRES_DAY}T00:00:00Z`).token}\n`;
    }
    const run = captureIo(stdin);
    await runCliWith([...words, ...extra, '--json', '--config', configPath], run.io, kit.cli);
    const parsed = JSON.parse(run.out.join('\n'));
    expect(shapeOf(parsed)).toEqual(shapes.get(commandLine));
  });
});
