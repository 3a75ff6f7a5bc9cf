/** The metrics the daily credential check publishes, per credential secret. */
import type { Metric } from '../runtime/metric.js';
import type { AdminCredentialCheck, CredentialCheck } from './check.js';

export function credentialMetrics(checks: CredentialCheck[], admin?: AdminCredentialCheck): Metric[] {
  const adminMetric: Metric[] = admin
    ? [
        {
          name: 'AdminCredentialValid',
          value: admin.state === 'ok' ? 1 : 0,
          dimensions: { SecretName: admin.secretName },
        },
      ]
    : [];
  return adminMetric.concat(
    checks.flatMap((c) => {
      const dimensions = { SecretName: c.secretName };
      // Unverified is no verdict: no datum, so the "token invalid" alarm neither fires nor clears on it.
      const metrics: Metric[] =
        c.state === 'unverified' ? [] : [{ name: 'CredentialValid', value: c.valid ? 1 : 0, dimensions }];
      if (c.expiry.daysLeft !== undefined)
        metrics.push({ name: 'CredentialDaysToExpiry', value: c.expiry.daysLeft, unit: 'None', dimensions });
      return metrics;
    }),
  );
}
