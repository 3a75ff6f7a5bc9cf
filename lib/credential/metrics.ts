/** The metrics the daily credential check publishes, per credential secret. */
import type { Metric } from '../runtime/metric.js';
import type { CredentialCheck } from './check.js';

export function credentialMetrics(checks: CredentialCheck[]): Metric[] {
  return checks.flatMap((c) => {
    const dimensions = { SecretName: c.secretName };
    const metrics: Metric[] = [{ name: 'CredentialValid', value: c.valid ? 1 : 0, dimensions }];
    if (c.expiry.daysLeft !== undefined)
      metrics.push({ name: 'CredentialDaysToExpiry', value: c.expiry.daysLeft, unit: 'None', dimensions });
    return metrics;
  });
}
