/**
 * The AWS JSON protocol as the SDK v3 clients speak it: `X-Amz-Target: <prefix>.<Operation>`,
 * a JSON body, and errors as HTTP 400 `{"__type": "<Name>", "message": …}` so the SDK raises the
 * real exception classes. Timestamps travel as epoch seconds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { sendJson } from '../http.js';
import { validateInput } from './constraints.js';

export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Operation = (input: Record<string, unknown>, call: CallContext) => unknown | Promise<unknown>;

export interface CallContext {
  /** Access key id from the SigV4 Authorization header (dummy credentials in the sandbox). */
  accessKeyId: string;
}

export interface AwsService {
  /** `AmazonEC2ContainerRegistry_V20150921`, `secretsmanager`, `GraniteServiceVersion20100801`. */
  targetPrefix: string;
  /** Short name for fault routes: `ecr`, `secretsmanager`, `cloudwatch`. */
  name: string;
  operations: Record<string, Operation>;
  /** CloudWatch is awsQuery-compatible: errors also carry `x-amzn-query-error`. */
  queryCompatible?: boolean;
}

export function targetOf(req: IncomingMessage): { prefix: string; operation: string } | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  const dot = target.lastIndexOf('.');
  return { prefix: target.slice(0, dot), operation: target.slice(dot + 1) };
}

export function sendAwsError(res: ServerResponse, error: AwsError, queryCompatible = false): void {
  const headers: Record<string, string> = { 'x-amzn-errortype': error.type };
  if (queryCompatible) headers['x-amzn-query-error'] = `${error.type.replace(/Exception$/, '')};Sender`;
  sendJson(res, error.status, { __type: error.type, message: error.message }, headers);
}

/** Checks a call before it runs (the sandbox's IAM); throws the AwsError to answer with. */
export type Authorizer = (
  service: AwsService,
  operation: string,
  input: Record<string, unknown>,
  accessKeyId: string,
) => void;

export async function dispatchAws(
  services: AwsService[],
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  authorize?: Authorizer,
): Promise<void> {
  const target = targetOf(req);
  const service = target && services.find((s) => s.targetPrefix === target.prefix);
  if (!target || !service)
    return sendAwsError(
      res,
      new AwsError('UnknownOperationException', `unknown target ${req.headers['x-amz-target']}`),
    );
  const operation = service.operations[target.operation];
  if (!operation) {
    return sendAwsError(
      res,
      new AwsError(
        'UnknownOperationException',
        `the sandbox does not implement ${service.name}:${target.operation}`,
      ),
    );
  }
  let input: Record<string, unknown>;
  try {
    // The SDK gzips large PutMetricData bodies (request compression), as AWS accepts.
    const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
    input = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    return sendAwsError(
      res,
      new AwsError('SerializationException', 'request body is not JSON'),
      service.queryCompatible,
    );
  }
  const accessKeyId =
    /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'anonymous';
  try {
    // As the services do: the request must satisfy the API model before anything else happens.
    validateInput(service.name, target.operation, input);
    authorize?.(service, target.operation, input, accessKeyId);
    const output = await operation(input, { accessKeyId });
    sendJson(res, 200, output ?? {}, {
      'content-type':
        service.name === 'cloudwatch' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
    });
  } catch (error) {
    if (error instanceof AwsError) return sendAwsError(res, error, service.queryCompatible);
    throw error;
  }
}

/** Epoch seconds, as the JSON protocol carries timestamps. */
export const epochSeconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

export function requireString(
  input: Record<string, unknown>,
  key: string,
  type = 'InvalidParameterException',
): string {
  const value = input[key];
  if (typeof value !== 'string' || value === '') throw new AwsError(type, `${key} is required`);
  return value;
}

/** Simple opaque pagination: nextToken is the offset. */
export function paginate<T>(
  items: T[],
  input: Record<string, unknown>,
  max = 1000,
  defaultSize = 100,
): { page: T[]; nextToken?: string } {
  const size = input.maxResults === undefined ? defaultSize : Number(input.maxResults);
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new AwsError('InvalidParameterException', `maxResults must be between 1 and ${max}`);
  }
  const start =
    input.nextToken === undefined ? 0 : Number(Buffer.from(String(input.nextToken), 'base64url').toString());
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError('InvalidParameterException', 'nextToken is not valid');
  const page = items.slice(start, start + size);
  const next =
    start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { page, ...(next ? { nextToken: next } : {}) };
}
