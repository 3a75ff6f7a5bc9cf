/**
 * The limits the AWS APIs put on the values a config sets (lengths, patterns, list sizes), taken from
 * the services' own API models (data/aws-api-constraints.json, extracted from botocore), so that
 * `validate` refuses exactly what `apply` would have ECR, Secrets Manager or CloudWatch refuse,
 * with the path in the file. Read at config load only (package time and the CLI): the Lambda
 * bundles carry the resolved config, not this.
 */
import constraints from '../../data/aws-api-constraints.json' with { type: 'json' };

interface ModelShape {
  type: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  members?: Record<string, ModelShape>;
  member?: ModelShape;
}

let models: Record<string, { operations: Record<string, ModelShape> }> | undefined;

function shapeAt(path: string): ModelShape {
  models ??= (
    constraints as unknown as { services: Record<string, { operations: Record<string, ModelShape> }> }
  ).services;
  const [service, operation, ...members] = path.split('.');
  let shape = models[service!]?.operations[operation!];
  for (const m of members) shape = m === '[]' ? shape?.member : shape?.members?.[m];
  if (!shape) throw new Error(`no API model shape at ${path}`);
  return shape;
}

/**
 * What the API model at `path` (`ecr.CreateRepository.repositoryName`, `[]` for a list's member)
 * says is wrong with `value`; undefined when the API would accept it.
 */
export function apiModelProblem(path: string, value: string | number | unknown[]): string | undefined {
  const shape = shapeAt(path);
  const field = path
    .split('.')
    .filter((p) => p !== '[]')
    .at(-1);
  const api = `the ${path.split('.')[0]!.toUpperCase()} API's ${path.split('.')[1]} ${field}`;
  if (typeof value === 'string') {
    const length = [...value].length;
    if (shape.min !== undefined && length < shape.min)
      return `must be at least ${shape.min} character${shape.min === 1 ? '' : 's'} (${api})`;
    if (shape.max !== undefined && length > shape.max)
      return `must be at most ${shape.max} characters (${api})`;
    if (shape.pattern && !new RegExp(shape.pattern).test(value))
      return `"${value.length > 60 ? `${value.slice(0, 60)}…` : value}" is not accepted by ${api} (pattern ${shape.pattern})`;
    if (shape.enum && !shape.enum.includes(value)) return `must be one of ${shape.enum.join(', ')} (${api})`;
  } else if (Array.isArray(value)) {
    if (shape.min !== undefined && value.length < shape.min)
      return `needs at least ${shape.min} entries (${api})`;
    if (shape.max !== undefined && value.length > shape.max)
      return `takes at most ${shape.max} entries (${api})`;
  } else if (typeof value === 'number') {
    if (shape.min !== undefined && value < shape.min) return `must be at least ${shape.min} (${api})`;
    if (shape.max !== undefined && value > shape.max) return `must be at most ${shape.max} (${api})`;
  }
  return undefined;
}
