/**
 * The sandbox accepts and rejects what the services' API models do: for every operation it
 * implements and every top-level member with a length, value or size constraint, a request with
 * the value just outside the constraint is rejected with the model's exception, and the value just
 * inside is not rejected by validation (it may fail for other reasons: no such repository…). The
 * cases are generated from data/aws-api-constraints.json, which a second test re-derives from
 * botocore's models when they are installed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shape } from '../../sandbox/aws/constraints.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';

const data = JSON.parse(readFileSync('data/aws-api-constraints.json', 'utf8')) as {
  services: Record<string, { operations: Record<string, Shape> }>;
};
const TARGETS: Record<string, string> = {
  ecr: 'AmazonEC2ContainerRegistry_V20150921',
  secretsmanager: 'secretsmanager',
  cloudwatch: 'GraniteServiceVersion20100801',
};

/** A string of `length` that the pattern accepts, from a few simple alphabets; undefined if none do. */
function sampleString(shape: Shape, length: number): string | undefined {
  if (shape.enum) return shape.enum.find((e) => e.length === length);
  for (const unit of ['a', '1', 'A', 'a1', 'ab']) {
    const value = unit.repeat(length).slice(0, length);
    if (value.length === length && (!shape.pattern || new RegExp(shape.pattern).test(value))) return value;
  }
  return undefined;
}

/** Some value the shape accepts, for the members a case does not vary. */
function sample(shape: Shape): unknown {
  switch (shape.type) {
    case 'string':
      return sampleString(shape, Math.max(shape.min ?? 1, Math.min(shape.max ?? 8, 8)));
    case 'integer':
    case 'long':
    case 'double':
      return shape.min ?? 1;
    case 'boolean':
      return false;
    case 'list': {
      const item = shape.member ? sample(shape.member) : 'x';
      return item === undefined ? undefined : Array.from({ length: Math.max(1, shape.min ?? 1) }, () => item);
    }
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const name of shape.required ?? []) {
        const v = sample(shape.members![name]!);
        if (v === undefined) return undefined;
        out[name] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

interface Case {
  name: string;
  member: string;
  service: string;
  operation: string;
  input: Record<string, unknown>;
  valid: boolean;
}

/** The value of `member` just inside or just outside one bound, or undefined when none can be made. */
function boundaryValue(shape: Shape, bound: number): unknown {
  if (shape.type === 'string') return sampleString({ ...shape, enum: undefined }, bound);
  if (['integer', 'long', 'double'].includes(shape.type)) return bound;
  if (shape.type === 'list' && shape.member) {
    const item = sample(shape.member);
    return item === undefined || bound < 0 ? undefined : Array.from({ length: bound }, () => item);
  }
  return undefined;
}

function generateCases(): { cases: Case[]; skipped: string[] } {
  const cases: Case[] = [];
  const skipped: string[] = [];
  for (const [service, { operations }] of Object.entries(data.services)) {
    for (const [operation, shape] of Object.entries(operations)) {
      const base = sample(shape) as Record<string, unknown> | undefined;
      for (const [member, m] of Object.entries(shape.members ?? {})) {
        const label = `${service}:${operation}.${member}`;
        if (m.min === undefined && m.max === undefined) continue;
        if (!base) {
          skipped.push(`${label} (no sample for the required members)`);
          continue;
        }
        const bounds: Array<[number, boolean]> = [];
        // A string's minimum of 0 or 1 cannot be broken by a present value the SDK would send.
        if (m.min !== undefined && (m.type !== 'string' || m.min > 1))
          bounds.push([m.min - 1, false], [m.min, true]);
        if (m.max !== undefined && (m.type !== 'string' || m.max <= 4096))
          bounds.push([m.max + 1, false], [m.max, true]);
        for (const [bound, valid] of bounds) {
          const value = boundaryValue(m, bound);
          if (value === undefined) {
            skipped.push(`${label} = ${bound} (no value of that size fits the pattern)`);
            continue;
          }
          cases.push({
            member,
            name: `${label} ${valid ? 'at' : 'past'} ${bound === m.min || bound === m.min! - 1 ? 'min' : 'max'} (${bound})`,
            service,
            operation,
            input: { ...base, [member]: value },
            valid,
          });
        }
      }
    }
  }
  return { cases, skipped };
}

const { cases, skipped } = generateCases();
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.stop();
});

async function call(
  service: string,
  operation: string,
  input: unknown,
): Promise<{ status: number; type?: string; message?: string }> {
  const res = await fetch(sandbox.urls.aws, {
    method: 'POST',
    headers: {
      'content-type': service === 'cloudwatch' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
      'x-amz-target': `${TARGETS[service]}.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=${sandbox.clientOptions.credentials!.accessKeyId}/20261129/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(input),
  });
  const body = (await res.json().catch(() => ({}))) as { __type?: string; message?: string };
  return { status: res.status, type: body.__type, message: body.message };
}

const VALIDATION = /^(ValidationException|InvalidParameterValueException|MissingRequiredParameterException)$/;

describe('request constraints from the API models', () => {
  it('generates a case for most constrained members (the rest are listed)', () => {
    expect(cases.length).toBeGreaterThan(100);
    expect(skipped.length).toBeLessThan(cases.length / 2);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const answer = await call(c.service, c.operation, c.input);
    // The varied member's own validation error, as the model words it.
    const aboutMember = new RegExp(`validation errors? detected: .*at '${c.member}'`);
    if (c.valid) expect(answer.message ?? '', JSON.stringify(c.input).slice(0, 200)).not.toMatch(aboutMember);
    else {
      expect(answer.type).toMatch(VALIDATION);
      expect(answer.message).toMatch(aboutMember);
    }
  });
});

describe('the constraints file', () => {
  const botocore = (() => {
    try {
      execFileSync('python3', ['-c', 'import botocore'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!botocore)(
    'is what the installed botocore models say (npm run api-constraints -- --check)',
    () => {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/extract-api-constraints.ts', '--check'],
        {
          encoding: 'utf8',
        },
      );
      expect(out).toMatch(/matches the models/);
    },
  );
  it('names the models it came from', () => {
    expect(JSON.parse(readFileSync('data/aws-api-constraints.json', 'utf8')).source).toMatch(
      /^botocore \d+\.\d+\.\d+/,
    );
  });
});
