/** The lifecycle presets as the policy ECR gets, and keepLast against the pre-warm list. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lifecyclePolicyFromPresets, lifecyclePolicyProblems } from '../../../lib/config/lifecycle.js';
import { configProblems } from '../../support/configs.js';

const untagged = (days: number) => ({
  tagStatus: 'untagged',
  countType: 'sinceImagePushed',
  countUnit: 'days',
  countNumber: days,
});
const keepTagged = (n: number) => ({
  tagStatus: 'tagged',
  tagPatternList: ['*'],
  countType: 'imageCountMoreThan',
  countNumber: n,
});

describe('lifecyclePolicyFromPresets', () => {
  it.each<[string, Parameters<typeof lifecyclePolicyFromPresets>[0], unknown[]]>([
    [
      'keepLast counts tagged images (a platform manifest goes with its index); leftovers after 7 days',
      { keepLast: 6 },
      [untagged(7), keepTagged(6)],
    ],
    [
      'keepLast with expireUntaggedAfterDays: as given',
      { keepLast: 6, expireUntaggedAfterDays: 1 },
      [untagged(1), keepTagged(6)],
    ],
    ['expireUntaggedAfterDays alone', { expireUntaggedAfterDays: 3 }, [untagged(3)]],
    [
      'archiveUnpulledAfterDays, an any rule, comes last',
      { expireUntaggedAfterDays: 1, archiveUnpulledAfterDays: 30 },
      [untagged(1), { tagStatus: 'any', countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 }],
    ],
  ])('%s', (_name, presets, selections) => {
    const policy = lifecyclePolicyFromPresets(presets);
    expect(policy.rules.map((r) => r.selection)).toEqual(selections);
    expect(policy.rules.map((r) => r.rulePriority)).toEqual(selections.map((_, i) => i + 1));
    expect(lifecyclePolicyProblems(policy)).toEqual([]);
  });
});

describe('keepLast against prewarm.images', () => {
  const seed = readFileSync('keeper.config.yaml', 'utf8');
  const withImages = (images: string[]) =>
    seed.replace(/ {2}images:\n( {4}- .*\n)+/, `  images: [${images.join(', ')}]\n`);
  const problems = configProblems;

  it('refuses more tags of one repository than the template keeps: they would be pulled again every night', () => {
    const tags = ['18', '20', '22', '23', '24', '25', '26'].map((v) => `node:${v}-alpine`);
    expect(problems(withImages(tags))).toEqual([
      'rules[0].template.lifecycle.keepLast: keeps 6 tagged images per repository, but prewarm.images lists 7 tags of docker-hub/library/node: every night the policy would expire one the pre-warm then pulls again from upstream',
    ]);
    expect(problems(withImages(tags.slice(1)))).toEqual([]);
    // The same tag written two ways is one tag; other repositories count apart.
    expect(
      problems(withImages([...tags.slice(1), 'docker.io/library/node:20-alpine', 'alpine:3.20'])),
    ).toEqual([]);
  });

  it('refuses keepLast with archiveUnpulledAfterDays: the archive rule would never reach a tagged image', () => {
    const yaml = seed.replace(
      '        keepLast: 6\n',
      '        keepLast: 6\n        archiveUnpulledAfterDays: 30\n',
    );
    expect(problems(yaml)).toEqual([
      'rules[0].template.lifecycle.archiveUnpulledAfterDays: cannot go with keepLast: ECR acts on an image only through the first rule whose tags select it, and the archive rule must come after keepLast, so it would never reach a tagged image; choose one, or write a raw policy',
    ]);
  });

  it("counts each image against the template of the rule that caches it, a ROOT rule's too", () => {
    const yaml = [
      'rules:',
      '  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 2 } } }',
      '  - { prefix: ROOT, upstream: quay, template: { lifecycle: { keepLast: 1 } } }',
      'prewarm:',
      '  images: [node:22-alpine, node:24-alpine, quay.io/prometheus/node-exporter:v1.9.0]',
      '',
    ].join('\n');
    expect(problems(yaml)).toEqual([]);
    expect(problems(yaml.replace('node:24-alpine', 'node:24-alpine, node:20-alpine'))).toEqual([
      expect.stringMatching(
        /^rules\[0\]\.template\.lifecycle\.keepLast: keeps 2 tagged images per repository, but prewarm\.images lists 3 tags of docker-hub\/library\/node/,
      ),
    ]);
  });
});
