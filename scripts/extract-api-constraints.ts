/**
 * npm run api-constraints — extracts, from AWS's own API models (botocore's service-2.json.gz, on
 * this machine image under Python 3.11's site-packages), the input constraints of every operation
 * the sandbox implements: required members, string lengths and patterns, enums, number ranges and
 * list sizes, recursively. Writes data/aws-api-constraints.json, naming the model versions; the
 * sandbox validates requests with it and the config schema checks the same values up front.
 * `--check` re-derives it and fails when the committed file differs (the test suite runs that when
 * botocore is present).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Shape } from '../sandbox/aws/constraints.js';

export type { Shape };

export const CONSTRAINTS_FILE = 'data/aws-api-constraints.json';

/** The sandbox's services: model name → the operations it implements (kept in sync by a test). */
export const SANDBOX_OPERATIONS: Record<string, string[]> = JSON.parse(
  readFileSync('data/sandbox-operations.json', 'utf8'),
);

type ModelShape = Shape & {
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
};

export function botocoreDataDir(): string | undefined {
  try {
    const out = execFileSync(
      'python3',
      ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    return join(out.trim(), 'data');
  } catch {
    return undefined;
  }
}

function botocoreVersion(): string {
  return execFileSync('python3', ['-c', 'import botocore; print(botocore.__version__)'], {
    encoding: 'utf8',
  }).trim();
}

function shapeOf(model: { shapes: Record<string, ModelShape> }, name: string, depth = 0): Shape {
  const s = model.shapes[name]!;
  const out: Shape = { type: s.type };
  for (const k of ['min', 'max', 'pattern', 'enum', 'required'] as const)
    if (s[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = s[k];
  if (depth > 8) return out;
  if (s.type === 'structure' && s.members)
    out.members = Object.fromEntries(
      Object.entries(s.members).map(([m, ref]) => [m, shapeOf(model, ref.shape, depth + 1)]),
    );
  if (s.type === 'list' && s.member) out.member = shapeOf(model, s.member.shape, depth + 1);
  if (s.type === 'map' && s.key && s.value) {
    out.key = shapeOf(model, s.key.shape, depth + 1);
    out.value = shapeOf(model, s.value.shape, depth + 1);
  }
  return out;
}

export function deriveConstraints(dataDir: string) {
  const services: Record<string, { apiVersion: string; operations: Record<string, Shape> }> = {};
  for (const [service, operations] of Object.entries(SANDBOX_OPERATIONS)) {
    const [version] = execFileSync('ls', [join(dataDir, service)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort()
      .reverse();
    const model = JSON.parse(
      gunzipSync(readFileSync(join(dataDir, service, version!, 'service-2.json.gz'))).toString(),
    );
    services[service] = {
      apiVersion: model.metadata.apiVersion,
      operations: Object.fromEntries(
        operations.map((op) => {
          const input = model.operations[op]?.input?.shape;
          if (!model.operations[op]) throw new Error(`${service} has no operation ${op} in its model`);
          return [op, input ? shapeOf(model, input) : { type: 'structure', members: {} }];
        }),
      ),
    };
  }
  return { source: `botocore ${botocoreVersion()} service-2.json models`, services };
}

const render = (data: unknown) => `${JSON.stringify(data, null, 1)}\n`;

if (process.argv[1]?.endsWith('extract-api-constraints.ts')) {
  const dir = botocoreDataDir();
  if (!dir) throw new Error('botocore is not installed (python3 -m pip show botocore)');
  const text = render(deriveConstraints(dir));
  if (process.argv.includes('--check')) {
    if (readFileSync(CONSTRAINTS_FILE, 'utf8') !== text) {
      console.error(`${CONSTRAINTS_FILE} differs from the models: run npm run api-constraints`);
      process.exit(1);
    }
    console.log(`${CONSTRAINTS_FILE} matches the models`);
  } else {
    writeFileSync(CONSTRAINTS_FILE, text);
    console.log(`wrote ${CONSTRAINTS_FILE}`);
  }
}
