/**
 * Lambda `rotateCredential`: invoked by Secrets Manager once per rotation step. A failed step fails
 * the invocation, so Secrets Manager stops the rotation and AWSCURRENT stays on the working token.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ROTATION_STEPS, type RotationEvent, rotateStep, type StepResult } from '../lib/credential/rotate.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { InvalidEventError } from '../lib/runtime/errors.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface RotateCredentialDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
}

export function parseRotationEvent(event: unknown): RotationEvent {
  const e = event as Record<string, unknown> | null;
  const problems: string[] = [];
  if (!e || typeof e !== 'object' || Array.isArray(e))
    throw new InvalidEventError('rotateCredential: the event must be a Secrets Manager rotation event');
  if (!ROTATION_STEPS.includes(e.Step as RotationEvent['Step']))
    problems.push(`Step must be one of ${ROTATION_STEPS.join(', ')}`);
  if (typeof e.SecretId !== 'string' || !e.SecretId) problems.push('SecretId is required');
  if (typeof e.ClientRequestToken !== 'string' || !e.ClientRequestToken)
    problems.push('ClientRequestToken is required');
  if (problems.length) throw new InvalidEventError(`rotateCredential: ${problems.join('; ')}`);
  return {
    Step: e.Step as RotationEvent['Step'],
    SecretId: e.SecretId as string,
    ClientRequestToken: e.ClientRequestToken as string,
  };
}

export async function runRotation(
  event: RotationEvent,
  deps: Invocation<RotateCredentialDeps>,
): Promise<StepResult> {
  const result = await rotateStep(event, deps);
  deps.logger.info(`rotation ${event.Step}: ${result.outcome}`, {
    secretId: event.SecretId,
    ClientRequestToken: event.ClientRequestToken,
    ...result,
  });
  return result;
}

export const createRotateCredentialHandler = keeperHandler(
  'rotateCredential',
  parseRotationEvent,
  runRotation,
);

export const handler = lambdaEntry('rotateCredential', createRotateCredentialHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
}));
