/**
 * Lambda `rotateCredential`: invoked by Secrets Manager once per rotation step. A failed step fails
 * the invocation, so Secrets Manager stops the rotation and AWSCURRENT stays on the working token.
 */
import { sharedEcr, sharedSecrets } from '../lib/aws/clients.js';
import { ROTATION_STEPS, type RotationEvent, rotateStep, type StepResult } from '../lib/credential/rotate.js';
import { InvalidEventError } from '../lib/runtime/errors.js';
import { type HandlerDeps, keeperHandler } from '../lib/runtime/handler.js';

export function parseRotationEvent(event: unknown): RotationEvent {
  const e = event as Record<string, unknown> | null;
  const problems: string[] = [];
  if (!e || typeof e !== 'object')
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

export async function runRotation(event: RotationEvent, deps: HandlerDeps): Promise<StepResult> {
  const result = await rotateStep(event, { secrets: sharedSecrets(), ecr: sharedEcr(), config: deps.config });
  deps.logger.info(`rotation ${event.Step}: ${result.outcome}`, {
    secretId: event.SecretId,
    ClientRequestToken: event.ClientRequestToken,
    ...result,
  });
  return result;
}

export const handler = keeperHandler('rotateCredential', parseRotationEvent, runRotation);
