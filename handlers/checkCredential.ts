/** Lambda `checkCredential`: daily; CredentialValid and CredentialDaysToExpiry per credential secret. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type CredentialCheck, checkCredentialReport } from '../lib/credential/check.js';
import { credentialMetrics } from '../lib/credential/metrics.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import type { Runtime } from '../lib/runtime/deps.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type Invocation, keeperHandler } from '../lib/runtime/handler.js';
import { lambdaEntry } from '../lib/runtime/lambda.js';

export interface CheckCredentialDeps extends Runtime {
  ecr: ECRClient;
  secrets: SecretsManagerClient;
  cloudwatch: CloudWatchClient;
}

export async function runCheckCredential(
  _event: unknown,
  deps: Invocation<CheckCredentialDeps>,
): Promise<CredentialCheck[]> {
  const { checks, adminCredential } = await checkCredentialReport(deps);
  // The verdicts are logged before they are published: CloudWatch failing the metrics fails the
  // invocation (the alarms would not see the day), never before the day's verdicts are said.
  for (const check of checks) {
    // An unfinished rotation blocks the next one, the scheduled one included, and without a
    // rotation nothing renews the token: said as warnings.
    const log =
      check.valid && !check.unfinishedRotation && !check.rotationNotEnabled
        ? deps.logger.info
        : deps.logger.warn;
    log(`credential ${check.secretName}: ${check.state}`, { ...check });
  }
  if (adminCredential && adminCredential.state !== 'ok')
    deps.logger.warn(`admin credential ${adminCredential.secretName}: ${adminCredential.state}`, {
      ...adminCredential,
    });
  await publishMetrics(
    deps.cloudwatch,
    deps.config.metrics.namespace,
    credentialMetrics(checks, adminCredential),
    new Date(deps.now()),
  );
  return checks;
}

export const createCheckCredentialHandler = keeperHandler(
  'checkCredential',
  (e) => parseOptions('checkCredential', e, {}),
  runCheckCredential,
);

export const handler = lambdaEntry('checkCredential', createCheckCredentialHandler, (aws) => ({
  ecr: new ECRClient(aws),
  secrets: new SecretsManagerClient(aws),
  cloudwatch: new CloudWatchClient(aws),
}));
