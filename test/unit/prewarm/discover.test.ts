/** prewarm.discover: the tags pulled within the window and not listed, most recent first, at most maxImages. */
import { readFileSync } from 'node:fs';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';
import { discoverImages, suggestImages } from '../../../lib/prewarm/suggest.js';

const ecrMock = mockClient(ECRClient);
const NOW = Date.parse('2026-11-29T00:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000);

const config = (discover: string) =>
  parseConfig(
    readFileSync('keeper.config.yaml', 'utf8').replace('  images:\n', `  discover: ${discover}\n  images:\n`),
  );

beforeEach(() => {
  ecrMock.reset();
  ecrMock.on(DescribeRepositoriesCommand).resolves({
    repositories: [
      { repositoryName: 'docker-hub/library/memcached' },
      { repositoryName: 'docker-hub/bitnami/kafka' },
      { repositoryName: 'docker-hub/library/node' },
      { repositoryName: 'quay/prometheus/node-exporter' },
      { repositoryName: 'other/thing' },
    ],
  });
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'docker-hub/library/memcached' }).resolves({
    imageDetails: [
      { imageTags: ['1.6'], lastRecordedPullTime: daysAgo(1) },
      { imageTags: ['1.5'], lastRecordedPullTime: daysAgo(10) },
    ],
  });
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'docker-hub/bitnami/kafka' }).resolves({
    imageDetails: [{ imageTags: ['3.7', 'latest'], lastRecordedPullTime: daysAgo(2) }],
  });
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'docker-hub/library/node' }).resolves({
    // Listed in the shipped config: never discovered.
    imageDetails: [{ imageTags: ['22-alpine'], lastRecordedPullTime: daysAgo(0) }],
  });
  ecrMock.on(DescribeImagesCommand, { repositoryName: 'quay/prometheus/node-exporter' }).resolves({
    imageDetails: [{ imageTags: ['v1.9.0'], lastRecordedPullTime: daysAgo(3) }],
  });
});

describe('discoverImages', () => {
  it.each([
    ['{ pulledWithinDays: 7 }', ['memcached:1.6', 'bitnami/kafka:3.7', 'bitnami/kafka:latest']],
    ['{ pulledWithinDays: 7, maxImages: 2 }', ['memcached:1.6', 'bitnami/kafka:3.7']],
    ['{ pulledWithinDays: 1, maxImages: 5 }', ['memcached:1.6']],
    [
      '{ pulledWithinDays: 30 }',
      ['memcached:1.6', 'bitnami/kafka:3.7', 'bitnami/kafka:latest', 'memcached:1.5'],
    ],
  ])('discover %s → %j', async (discover, expected) => {
    const { images: found, unreadable } = await discoverImages(new ECRClient({}), config(discover), NOW);
    expect(unreadable).toEqual([]);
    expect(found.map((i) => i.original)).toEqual(expected);
    expect(found.every((i) => i.rulePrefix === 'docker-hub')).toBe(true);
  });

  it('without prewarm.discover, asks ECR nothing', async () => {
    expect(
      await discoverImages(new ECRClient({}), parseConfig(readFileSync('keeper.config.yaml', 'utf8')), NOW),
    ).toEqual({ images: [], unreadable: [] });
    expect(ecrMock.calls()).toHaveLength(0);
  });
});

describe('every rule’s registry, not only Docker Hub’s', () => {
  /** The shipped config with a Quay rule, and a Quay image listed that nothing pulls. */
  const withQuay = (discover = '') =>
    parseConfig(
      readFileSync('keeper.config.yaml', 'utf8')
        .replace(/^rules:\n/m, 'rules:\n  - { prefix: quay, upstream: quay }\n')
        .replace('  images:\n', `${discover}  images:\n    - quay.io/coreos/etcd:v3.5.0\n`),
    );

  it('discovers a Quay image CI pulled, under its quay.io name and the Quay rule', async () => {
    const { images: found } = await discoverImages(
      new ECRClient({}),
      withQuay('  discover: { pulledWithinDays: 7 }\n'),
      NOW,
    );
    expect(found.map((i) => [i.original, i.rulePrefix])).toEqual([
      ['memcached:1.6', 'docker-hub'],
      ['bitnami/kafka:3.7', 'docker-hub'],
      ['bitnami/kafka:latest', 'docker-hub'],
      ['quay.io/prometheus/node-exporter:v1.9.0', 'quay'],
    ]);
  });

  it('suggest lists a listed Quay image nobody pulled', async () => {
    const report = await suggestImages(new ECRClient({}), withQuay(), { now: NOW, pulledWithinDays: 7 });
    expect(report.listedNotPulled.map((i) => i.image)).toContain('quay.io/coreos/etcd:v3.5.0');
    expect(report.pulledNotListed.map((i) => i.image)).toContain('quay.io/prometheus/node-exporter:v1.9.0');
  });
});
