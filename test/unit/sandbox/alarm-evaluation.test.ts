/** The sandbox's alarm evaluation, as CloudWatch documents it: the table the credential alarms' tests rely on. */
import { describe, expect, it } from 'vitest';
import { type AlarmState, alarmStateAfter } from '../../../sandbox/aws/cloudwatch.js';

const below1 = {
  Statistic: 'Minimum',
  Threshold: 1,
  ComparisonOperator: 'LessThanThreshold',
  EvaluationPeriods: 1,
};

describe('alarmStateAfter', () => {
  it.each<[string, string | undefined, number[][], AlarmState, AlarmState]>([
    ['a breaching datum', 'ignore', [[0]], 'OK', 'ALARM'],
    ['a datum within the threshold', 'ignore', [[1]], 'ALARM', 'OK'],
    ['the statistic of the period (Minimum of 1 and 0)', 'ignore', [[1, 0]], 'OK', 'ALARM'],
    ['missing, ignore: the state is kept', 'ignore', [[]], 'ALARM', 'ALARM'],
    ['missing, ignore, from OK', 'ignore', [[]], 'OK', 'OK'],
    ['missing, notBreaching: counted fine, so ALARM clears', 'notBreaching', [[]], 'ALARM', 'OK'],
    ['missing, breaching', 'breaching', [[]], 'OK', 'ALARM'],
    ['missing, missing (the default)', undefined, [[]], 'ALARM', 'INSUFFICIENT_DATA'],
  ])('%s', (_case, treatMissing, periods, current, expected) => {
    expect(alarmStateAfter({ ...below1, TreatMissingData: treatMissing }, periods, current)).toBe(expected);
  });

  it('M of N: ALARM when DatapointsToAlarm of the latest EvaluationPeriods breach', () => {
    const twoOfThree = {
      ...below1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    };
    expect(alarmStateAfter(twoOfThree, [[0], [1], [0]], 'OK')).toBe('ALARM');
    expect(alarmStateAfter(twoOfThree, [[0], [1], []], 'ALARM')).toBe('OK');
    expect(alarmStateAfter({ ...twoOfThree, TreatMissingData: 'breaching' }, [[0], [1], []], 'OK')).toBe(
      'ALARM',
    );
    // Only the latest three periods count.
    expect(alarmStateAfter(twoOfThree, [[0], [0], [1], [1], [0]], 'OK')).toBe('OK');
  });

  it('refuses what CloudWatch does not have, rather than guessing', () => {
    expect(() => alarmStateAfter({ ...below1, Statistic: 'p99.9' }, [[1]], 'OK')).toThrow(/Statistic/);
    expect(() => alarmStateAfter({ ...below1, TreatMissingData: 'notbreaching' }, [[1]], 'OK')).toThrow(
      /TreatMissingData/,
    );
    expect(() => alarmStateAfter({ ...below1, EvaluationPeriods: 2 }, [[1]], 'OK')).toThrow(
      /2 evaluation periods/,
    );
  });
});
