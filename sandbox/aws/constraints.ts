/**
 * Request validation as the services do it, from their API models (data/aws-api-constraints.json,
 * extracted from botocore by scripts/extract-api-constraints.ts): required members, string lengths
 * and patterns (Smithy patterns match anywhere in the value unless anchored), enums, number ranges,
 * list and map sizes, recursively. The message follows AWS's ("1 validation error detected: Value
 * 'x' at 'upstreamRepositoryPrefix' failed to satisfy constraint: Member must have length greater
 * than or equal to 2"). ECR and Secrets Manager answer ValidationException; CloudWatch its own
 * MissingParameter / InvalidParameterValue.
 */
import { readFileSync } from 'node:fs';
import { AwsError } from './protocol.js';

export interface Shape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  required?: string[];
  members?: Record<string, Shape>;
  member?: Shape;
  key?: Shape;
  value?: Shape;
}

interface ConstraintData {
  source: string;
  services: Record<string, { apiVersion: string; operations: Record<string, Shape> }>;
}

const data: ConstraintData = JSON.parse(
  readFileSync(new URL('../../data/aws-api-constraints.json', import.meta.url), 'utf8'),
);

/** The input shape of an operation, from the model. */
export function inputShape(service: string, operation: string): Shape | undefined {
  return data.services[service]?.operations[operation];
}

const patterns = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let r = patterns.get(pattern);
  if (!r) {
    r = new RegExp(pattern);
    patterns.set(pattern, r);
  }
  return r;
}

const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));

/** Every constraint the input breaks, as AWS words them (empty: none). */
export function violations(shape: Shape, value: unknown, path = ''): string[] {
  const at = (p: string) => (path ? `${path}.${p}` : p);
  const out: string[] = [];
  if (value === undefined || value === null) return out;
  const fail = (what: string) =>
    out.push(`Value ${show(value)} at '${path}' failed to satisfy constraint: Member must ${what}`);
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') break;
      const length = [...value].length;
      if (shape.min !== undefined && length < shape.min)
        fail(`have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && length > shape.max)
        fail(`have length less than or equal to ${shape.max}`);
      if (shape.pattern && !regex(shape.pattern).test(value))
        fail(`satisfy regular expression pattern: ${shape.pattern}`);
      if (shape.enum && !shape.enum.includes(value))
        fail(`satisfy enum value set: [${shape.enum.join(', ')}]`);
      break;
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      if (typeof value !== 'number') break;
      if (shape.min !== undefined && value < shape.min)
        fail(`have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) fail(`have value less than or equal to ${shape.max}`);
      break;
    }
    case 'list': {
      if (!Array.isArray(value)) break;
      if (shape.min !== undefined && value.length < shape.min)
        fail(`have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max)
        fail(`have length less than or equal to ${shape.max}`);
      if (shape.member)
        for (const [i, item] of value.entries())
          out.push(...violations(shape.member, item, `${path}.${i + 1}.member`));
      break;
    }
    case 'map': {
      if (typeof value !== 'object') break;
      const entries = Object.entries(value as Record<string, unknown>);
      if (shape.min !== undefined && entries.length < shape.min)
        fail(`have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && entries.length > shape.max)
        fail(`have length less than or equal to ${shape.max}`);
      for (const [k, v] of entries) {
        if (shape.key) out.push(...violations(shape.key, k, `${path}.key`));
        if (shape.value) out.push(...violations(shape.value, v, at(k)));
      }
      break;
    }
    case 'structure': {
      if (typeof value !== 'object') break;
      const record = value as Record<string, unknown>;
      for (const name of shape.required ?? [])
        if (record[name] === undefined || record[name] === null)
          out.push(`Value null at '${at(name)}' failed to satisfy constraint: Member must not be null`);
      for (const [name, member] of Object.entries(shape.members ?? {}))
        out.push(...violations(member, record[name], at(name)));
      break;
    }
  }
  return out;
}

/** Throws the service's validation error when the input breaks its model's constraints. */
export function validateInput(service: string, operation: string, input: Record<string, unknown>): void {
  const shape = inputShape(service, operation);
  if (!shape) return;
  const problems = violations(shape, input);
  if (problems.length === 0) return;
  const message = `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`;
  if (service === 'cloudwatch')
    throw new AwsError(
      problems.every((p) => p.includes('must not be null'))
        ? 'MissingRequiredParameterException'
        : 'InvalidParameterValueException',
      message,
    );
  throw new AwsError('ValidationException', message);
}
