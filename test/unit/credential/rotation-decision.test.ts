/** The rotation steps' decisions as a table: which version holds which label, the mode → what to do. */
import { describe, expect, it } from 'vitest';
import { decideRotationStep, type RotationFacts } from '../../../lib/credential/rotate.js';

const NEW = 'new-version';
const OLD = 'old-version';
const base: RotationFacts = {
  step: 'createSecret',
  mode: 'managed',
  secretName: 'ecr-pullthroughcache/docker-hub',
  rotationEnabled: true,
  token: NEW,
  versionIdsToStages: { [OLD]: ['AWSCURRENT'], [NEW]: ['AWSPENDING'] },
};
const afterMove = { [OLD]: ['AWSPREVIOUS'], [NEW]: ['AWSCURRENT'] };

describe('decideRotationStep', () => {
  it.each<[string, Partial<RotationFacts>, Record<string, unknown>]>([
    [
      'rotation mode off: refuse',
      { mode: 'off' },
      { action: 'refuse', reason: expect.stringMatching(/"off"/) },
    ],
    [
      'rotation mode off, createSecret of an empty pending version: refuse, and withdraw it',
      { mode: 'off', pendingStored: false },
      { action: 'refuse', reason: expect.stringMatching(/"off"/), withdraw: true },
    ],
    [
      'rotation mode off, a later step: refuse, and leave the version as it is',
      { mode: 'off', step: 'testSecret', pendingStored: false },
      { action: 'refuse', reason: expect.stringMatching(/"off"/) },
    ],
    [
      'rotation not enabled on the secret: refuse',
      { rotationEnabled: false },
      { action: 'refuse', reason: expect.stringMatching(/not enabled/) },
    ],
    [
      'unknown version: refuse',
      { token: 'nope' },
      { action: 'refuse', reason: expect.stringMatching(/does not exist/) },
    ],
    [
      'a version with no label: refuse',
      { versionIdsToStages: { [OLD]: ['AWSCURRENT'], [NEW]: [] } },
      { action: 'refuse', reason: expect.stringMatching(/is not AWSPENDING/) },
    ],
    ['createSecret, managed, nothing stored: mint', { pendingStored: false }, { action: 'mint' }],
    [
      'createSecret, value already stored (a retry): done',
      { pendingStored: true },
      { action: 'done', outcome: expect.any(String) },
    ],
    [
      'createSecret, staged, already copied (a retry): done',
      { mode: 'staged', pendingStored: true },
      { action: 'done', outcome: expect.any(String) },
    ],
    [
      'createSecret, staged, the operator staged a token: copy it into AWSPENDING',
      { mode: 'staged', pendingStored: false, staged: true },
      { action: 'copy-staged' },
    ],
    [
      'createSecret, staged, nothing staged: refuse, saying how to stage, and withdraw the empty version',
      { mode: 'staged', pendingStored: false },
      { action: 'refuse', reason: expect.stringMatching(/credential stage/), withdraw: true },
    ],
    ['setSecret: check the pending value is there', { step: 'setSecret' }, { action: 'check-pending' }],
    ['testSecret: test it upstream', { step: 'testSecret' }, { action: 'test' }],
    [
      'finishSecret: move AWSCURRENT from the current version',
      { step: 'finishSecret' },
      { action: 'finish', currentVersion: OLD },
    ],
    [
      'a retried step after AWSCURRENT moved: done',
      { step: 'testSecret', versionIdsToStages: afterMove },
      { action: 'done', outcome: 'already current' },
    ],
    [
      'a retried finishSecret after AWSCURRENT moved: complete the finish against AWSPREVIOUS',
      { step: 'finishSecret', versionIdsToStages: afterMove },
      { action: 'complete-finish', previousVersion: OLD },
    ],
  ])('%s', (_name, patch, expected) => {
    expect(decideRotationStep({ ...base, ...patch })).toEqual(expected);
  });
});
