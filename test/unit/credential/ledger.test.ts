/** The ledger of the keeper's Docker Hub tokens: whose each token is, and what is out of place. */
import { describe, expect, it } from 'vitest';
import { ledgerDrift, mintedFor, patLabel, secretMark } from '../../../lib/credential/ledger.js';
import type { HubPat } from '../../../lib/dockerhub/hub-api.js';

const OURS = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf';
const EU = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/docker-hub-GhIjKl';
const VERSION = '0f4c7e2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b';

const pat = (uuid: string, token_label: string, is_active = true) =>
  ({ uuid, token_label, is_active, scopes: ['repo:public_read'] }) as unknown as HubPat;

describe('labels', () => {
  it('name the secret by a mark and the rotation version, within Docker Hub’s 100 characters', () => {
    expect(patLabel(OURS, VERSION)).toBe(`ecr-cache-keeper ${secretMark(OURS)} ${VERSION}`);
    expect(secretMark(OURS)).toMatch(/^[0-9a-f]{8}$/);
    expect(secretMark(OURS)).not.toBe(secretMark(EU));
    // Secrets Manager's version ids are at most 64 characters.
    expect(patLabel(OURS, 'x'.repeat(64)).length).toBeLessThanOrEqual(100);
  });

  it.each<[string, string, boolean]>([
    ['this secret’s label for the version', patLabel(OURS, VERSION), true],
    ['the label keepers wrote before the mark', `ecr-cache-keeper ${VERSION}`, true],
    ['another secret’s label for the same version id', patLabel(EU, VERSION), false],
    ['another version', patLabel(OURS, 'another'), false],
  ])('a token with %s was minted for this version: %s', (_name, label, expected) => {
    expect(mintedFor(pat('u', label), OURS, VERSION)).toBe(expected);
  });
});

describe('ledgerDrift', () => {
  const pats = [
    pat('current', patLabel(OURS, 'v3')),
    pat('retired', patLabel(OURS, 'v2'), false),
    pat('pending', patLabel(OURS, 'v4')),
    pat('stray', patLabel(OURS, 'v1-aborted')),
    pat('eu-current', patLabel(EU, 'v9')),
    pat('older', 'ecr-cache-keeper v0'),
    pat('by-hand', 'laptop'),
  ];

  it("takes as strays only this secret's tokens that are neither current, retired nor pending", () => {
    expect(
      ledgerDrift(pats, {
        secretArn: OURS,
        currentUuid: 'current',
        retired: { uuid: 'retired', due: true },
        pendingVersion: 'v4',
      }),
    ).toEqual({
      strays: [{ uuid: 'stray', token_label: patLabel(OURS, 'v1-aborted'), is_active: true }],
      unmarked: ['older'],
      retiredDue: 'retired',
    });
  });

  it("leaves another deployment's tokens on the same Docker Hub account alone, from either side", () => {
    const eu = ledgerDrift(pats, { secretArn: EU, currentUuid: 'eu-current' });
    expect(eu.strays.map((s) => s.uuid)).toEqual([]);
    expect(eu.unmarked).toEqual(['older']);
  });

  it('counts the current token as kept even when it carries the label of before the mark', () => {
    expect(
      ledgerDrift([pat('older', 'ecr-cache-keeper v0')], { secretArn: OURS, currentUuid: 'older' }),
    ).toEqual({
      strays: [],
      unmarked: [],
    });
  });
});
