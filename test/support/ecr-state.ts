/** The actual state of the Docker Hub credential secret as reconcile reads it, for the ECR unit tests. */
import type { ActualState } from '../../lib/ecr/state.js';

export const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf';

/** The credential secret, readable and unrotated. */
export const credentialSecretState = (): ActualState['secrets'] =>
  new Map([
    [
      'ecr-pullthroughcache/docker-hub',
      {
        ok: true,
        secret: {
          arn: SECRET_ARN,
          name: 'ecr-pullthroughcache/docker-hub',
          tags: {},
          versionIdsToStages: {},
          rotationEnabled: false,
        },
      },
    ],
  ]);
