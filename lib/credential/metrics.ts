/** The metrics the daily credential check publishes, per credential secret. */
import type { Metric } from '../runtime/metric.js';
import type { AdminCredentialCheck, CredentialCheck } from './check.js';

export function credentialMetrics(checks: CredentialCheck[], admin?: AdminCredentialCheck): Metric[] {
  // Throttled or unreachable is no verdict on the admin credential either: no datum.
  const adminMetric: Metric[] =
    admin && admin.state !== 'throttled' && admin.state !== 'unreachable'
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
      // Unverified is no verdict: no datum, and the "token invalid" alarm (TreatMissingData ignore)
      // neither fires nor clears on it.
      const verified = c.state !== 'unverified';
      const metrics: Metric[] = [
        // Days in a row without a verdict fire their own alarm: meanwhile "token invalid" cannot.
        { name: 'CredentialVerified', value: verified ? 1 : 0, dimensions },
        ...(verified ? [{ name: 'CredentialValid', value: c.valid ? 1 : 0, dimensions }] : []),
      ];
      if (c.expiry.daysLeft !== undefined)
        metrics.push({ name: 'CredentialDaysToExpiry', value: c.expiry.daysLeft, unit: 'None', dimensions });
      return metrics;
    }),
  );
}
