/**
 * What a config problem says when the schema has no words of its own for it: plain English with
 * the limit and what was found, not the validator's notation ("Too small: expected number to be
 * >=1"). A message the schema gives (the API model's limits, ECR's rules) is kept as it is.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';

const problemsOf = (text: string): string[] => {
  try {
    parseConfig(text, 'keeper.config.yaml');
  } catch (error) {
    return (error as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  return [];
};
const RULE =
  'rules: [{ prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }]';

describe('plain messages for config problems', () => {
  it.each([
    [
      'a fraction where a whole number belongs',
      'prewarm: { concurrency: 2.5 }',
      'prewarm.concurrency: must be a whole number, not 2.5',
    ],
    [
      'a quoted number',
      'prewarm: { concurrency: "8" }',
      'prewarm.concurrency: must be a number, not the string "8"',
    ],
    ['below the minimum', 'prewarm: { concurrency: 0 }', 'prewarm.concurrency: must be at least 1, not 0'],
    [
      'above the maximum',
      'credential: { warnDays: 400 }',
      'credential.warnDays: must be at most 365, not 400',
    ],
    [
      'a word where a list belongs',
      'prewarm: { images: node:22 }',
      'prewarm.images: must be a list, not the string "node:22"',
    ],
    [
      'a list where a mapping belongs',
      'prewarm: [1, 2]',
      'prewarm: must be a mapping (key: value), not a list',
    ],
    [
      'a word where true or false belongs',
      'reconcile: { prune: yes }',
      'reconcile.prune: must be true or false, not the string "yes"',
    ],
    [
      'an option not on offer',
      'prewarm: { mode: fast }',
      'prewarm.mode: must be one of "full", "manifest-only", not "fast"',
    ],
    [
      'an empty value',
      'prewarm: { concurrency: }',
      'prewarm.concurrency: must be a number, not empty (null)',
    ],
  ])('%s', (_, extra, expected) => {
    expect(problemsOf(`${RULE}\n${extra}\n`)).toEqual([expected]);
  });

  it('a required key that is missing is said to be required', () => {
    expect(problemsOf('rules: [{ upstream: docker-hub }]\n')).toContain('rules[0].prefix: is required');
  });

  it('keeps the words the schema gives, and says an empty namespace once', () => {
    expect(problemsOf(`${RULE}\nmetrics: { namespace: "" }\n`)).toEqual([
      "metrics.namespace: must be at least 1 character (the CLOUDWATCH API's PutMetricData Namespace)",
    ]);
    expect(problemsOf(`${RULE}\nmetrics: { namespace: "AWS/ECR" }\n`)[0]).toMatch(
      /^metrics.namespace: must not start with "AWS\/"/,
    );
  });

  it('never quotes a long value whole', () => {
    const [problem] = problemsOf(`${RULE}\nprewarm: { concurrency: "${'9'.repeat(200)}" }\n`);
    expect(problem).toMatch(/^prewarm.concurrency: must be a number, not a string of 200 characters$/);
  });
});
