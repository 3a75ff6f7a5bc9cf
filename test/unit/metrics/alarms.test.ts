/** The alarms as data: which missing-data treatment each takes, and how the cycle reads them. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load.js';
import { alarmDefinitions, wouldFire } from '../../../lib/metrics/alarms.js';

const alarms = alarmDefinitions(loadConfig('keeper.config.yaml'));
const byMetric = (metric: string) => alarms.find((a) => a.metric === metric)!;

describe('alarm definitions', () => {
  it('a daily verdict on a credential keeps its state without a datum; counts of failures read none as fine', () => {
    expect(Object.fromEntries(alarms.map((a) => [a.metric, a.missingData]))).toEqual({
      AdminCredentialValid: 'ignore',
      CredentialValid: 'ignore',
      CredentialVerified: 'notBreaching',
      CredentialDaysToExpiry: 'ignore',
      PrewarmImagesFailed: 'notBreaching',
      PrewarmImagesUnverified: 'notBreaching',
      PrewarmImagesChecked: 'notBreaching',
      UpstreamPullFailures: 'notBreaching',
    });
  });
});

describe('wouldFire', () => {
  it.each<[string, string, number[], boolean]>([
    ['no datum', 'CredentialValid', [], false],
    ['the latest verdict: invalid', 'CredentialValid', [1, 0], true],
    ['the latest verdict: valid', 'CredentialValid', [0, 1], false],
    ['failures summed over the periods', 'UpstreamPullFailures', [0, 0, 2], true],
    ['no verdict for two days: not yet', 'CredentialVerified', [0, 0], false],
    ['no verdict for three days', 'CredentialVerified', [1, 0, 0, 0], true],
    ['a verdict among the last three days', 'CredentialVerified', [0, 1, 0], false],
    [
      'images unverified two nights: not yet (Docker Hub has bad nights)',
      'PrewarmImagesUnverified',
      [3, 12],
      false,
    ],
    ['images unverified three nights in a row', 'PrewarmImagesUnverified', [0, 3, 12, 1], true],
    ['a night that checked everything among them', 'PrewarmImagesUnverified', [3, 0, 12], false],
    ['no image checked two nights: not yet', 'PrewarmImagesChecked', [12, 0, 0], false],
    ['no image checked three nights in a row', 'PrewarmImagesChecked', [12, 0, 0, 0], true],
    ['one night that checked one image among them', 'PrewarmImagesChecked', [0, 1, 0], false],
  ])('%s', (_case, metric, values, fires) => expect(wouldFire(byMetric(metric), values)).toBe(fires));
});
