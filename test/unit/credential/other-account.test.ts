/** Managed rotation renews a token only as the admin's own account: which credentials it may not. */
import { describe, expect, it } from 'vitest';
import { otherAccountThanAdmin } from '../../../lib/credential/admin.js';

const admin = { secretName: 'ecr-cache-keeper/dockerhub-admin', username: 'keeper-ci' };
const credential = (username: string) => ({ secretName: 'ecr-pullthroughcache/docker-hub', username });

describe('otherAccountThanAdmin', () => {
  it.each<[string, string, RegExp | undefined]>([
    ['the admin’s own token', 'keeper-ci', undefined],
    [
      'the same account written in capitals (Docker Hub usernames are case-insensitive)',
      'Keeper-CI',
      undefined,
    ],
    [
      'an organization access token (the organization as username)',
      'acme-org',
      /^ecr-pullthroughcache\/docker-hub logs in as acme-org, and managed rotation mints tokens of keeper-ci \(with the admin credential ecr-cache-keeper\/dockerhub-admin\): a managed rotation would replace acme-org's token with one of keeper-ci's\. For an organization access token of acme-org, set credential\.rotation\.organization: acme-org \(with an owner's password as the admin credential\) or credential\.rotation\.mode: staged/,
    ],
  ])('%s', (_case, username, problem) => {
    const found = otherAccountThanAdmin(credential(username), admin);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});

describe('otherAccountThanAdmin, minting an organization’s tokens', () => {
  const organization = { ...admin, username: 'acme-org', organization: true };
  it('the organization’s own token needs nothing', () => {
    expect(otherAccountThanAdmin(credential('acme-org'), organization)).toBeUndefined();
  });
  it('a token of a person is not the organization’s to replace: store one of the organization, or unset organization', () => {
    expect(otherAccountThanAdmin(credential('keeper-ci'), organization)).toBe(
      "ecr-pullthroughcache/docker-hub logs in as keeper-ci, and managed rotation mints tokens of the organization acme-org (credential.rotation.organization): a managed rotation would replace keeper-ci's token with one of acme-org's. Store a token of acme-org (with acme-org as username) and record it with credential record, or unset credential.rotation.organization",
    );
  });
});
