/** Lambda `checkCredential`: daily; CredentialValid and CredentialDaysToExpiry per credential secret. */
import { sharedCloudWatch, sharedEcr, sharedSecrets } from '../lib/aws/clients.js';
import { type CredentialCheck, checkCredentials, credentialMetrics } from '../lib/credential/check.js';
import { publishMetrics } from '../lib/metrics/publish.js';
import { parseOptions } from '../lib/runtime/events.js';
import { type HandlerDeps, keeperHandler } from '../lib/runtime/handler.js';

export async function runCheckCredential(_event: unknown, deps: HandlerDeps): Promise<CredentialCheck[]> {
  const checks = await checkCredentials({ ecr: sharedEcr(), secrets: sharedSecrets(), config: deps.config });
  await publishMetrics(sharedCloudWatch(), deps.config.metrics.namespace, credentialMetrics(checks));
  for (const check of checks) {
    const log = check.valid ? deps.logger.info : deps.logger.warn;
    log(`credential ${check.secretName}: ${check.state}`, { ...check });
  }
  return checks;
}

export const handler = keeperHandler(
  'checkCredential',
  (e) => parseOptions('checkCredential', e, {}),
  runCheckCredential,
);
