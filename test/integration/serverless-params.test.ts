/**
 * `serverless package` with the stack's parameters (the real osls CLI, no AWS): what a parameter
 * changes in the template, and a bad value refused with its name before anything is packaged.
 */
import { describe, expect, it } from 'vitest';
import { serverless, serverlessPackage } from './support/serverless-package.js';

const packageWith = (param: string, extra: string[] = []) =>
  serverlessPackage([`--param=${param}`, ...extra]);

describe('prewarmReservedConcurrency', () => {
  // Only values refused before anything is built: a whole package here would rebuild .serverless/,
  // which other tests read (package.test.ts checks what the parameter puts in the template).
  it.each(['0', 'two', '1.5'])(
    '%j is refused, naming the parameter, before anything is built',
    async (value) => {
      const packaged = await packageWith(`prewarmReservedConcurrency=${value}`);
      expect(packaged.code).not.toBe(0);
      expect(packaged.output).toMatch(
        /prewarmReservedConcurrency must be a whole number of at least 1, or none/,
      );
      expect(packaged.output).not.toMatch(/^\s+at /m);
    },
    60_000,
  );
});

describe('permissionsBoundary', () => {
  it.each([
    'PlatformBoundary',
    'arn:aws:iam::123456789012:role/PlatformBoundary',
    'arn:aws:iam::12345:policy/PlatformBoundary',
  ])(
    '%j is refused, naming the parameter and what it takes, before anything is built',
    async (value) => {
      const packaged = await packageWith(`permissionsBoundary=${value}`);
      expect(packaged.code).not.toBe(0);
      expect(packaged.output).toContain(
        'the parameter permissionsBoundary must be the ARN of an IAM managed policy (arn:aws:iam::<account>:policy/<name>',
      );
      expect(packaged.output).not.toMatch(/^\s+at /m);
    },
    60_000,
  );
});

describe('the stage name', () => {
  it('too long for the IAM role names it makes is refused, with the longest that fits, before anything is built', async () => {
    const packaged = await packageWith('rotationStage=prod', [
      '--stage',
      'feature-branch-1234',
      '--region',
      'ap-southeast-3',
    ]);
    expect(packaged.code).not.toBe(0);
    expect(packaged.output).toMatch(
      /the role ecr-cache-keeper-feature-branch-1234-\w+-ap-southeast-3 would be \d+ characters; IAM allows 64: a stage name of at most 15 characters here/,
    );
    expect(packaged.output).not.toMatch(/^\s+at /m);
  }, 60_000);
});

describe('the schedules', () => {
  it('a pre-warm scheduled before reconcile is said at package time (and the shipped ones are not)', async () => {
    const printed = await serverless([
      'print',
      '--path',
      'provider.region',
      '--param=prewarmSchedule=cron(0 1 * * ? *)',
    ]);
    expect(printed.code).toBe(0);
    expect(printed.output).toContain(
      'serverless: warning: the pre-warm (01:00 UTC) starts before reconcile (02:00 UTC)',
    );
    const shipped = await serverless(['print', '--path', 'provider.region']);
    expect(shipped.output).not.toContain('warning');
  }, 60_000);
});
