/** A secret that is not valid JSON: the error says where and what kind, and no fragment of it reaches a log; and which version a rotation left unfinished. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readJsonSecret } from '../../../lib/credential/admin.js';
import { parseCredentialValue, unfinishedRotation } from '../../../lib/credential/secret.js';
import { createLogger, memorySink } from '../../../lib/runtime/logger.js';

const smMock = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });
const PASSWORD = 'S3cr3t-Admin-Passw0rd';

/** Every 8-character piece of the secret: none may appear anywhere in the output. */
const fragments = (secret: string) =>
  Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));

beforeEach(() => smMock.reset());

describe('secrets that are not valid JSON', () => {
  it.each([
    ['a bare word where a string belongs', `{"username":"keeper-ci","password":${PASSWORD}}`],
    ['a text cut short', `{"username":"keeper-ci","password":"${PASSWORD}`],
    ['a trailing comma', `{"username":"keeper-ci","password":"${PASSWORD}",}`],
    ['not an object at all', `${PASSWORD}`],
  ])('admin secret with %s: the logged error carries no fragment of it', async (_name, text) => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: text });
    const sink = memorySink();
    const logger = createLogger({ sink });
    const error = await readJsonSecret(secrets, 'ecr-cache-keeper/dockerhub-admin', [
      'username',
      'password',
    ]).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /ecr-cache-keeper\/dockerhub-admin: value is not (JSON|a JSON object)/,
    );
    logger.error('rotateCredential failed', { error });
    // The logger writes the error with its causes: search all of it, unredacted pieces included.
    const everything = JSON.stringify(sink.entries) + String((error as Error).cause ?? '');
    for (const piece of fragments(PASSWORD)) expect(everything).not.toContain(piece);
  });

  it('the credential value: the cause says the kind of problem, not the text', () => {
    let error = new Error('not thrown');
    try {
      parseCredentialValue('ecr-pullthroughcache/docker-hub', `{"username":"u","accessToken":${PASSWORD}}`);
    } catch (e) {
      error = e as Error;
    }
    expect(error.message).toMatch(/value is not JSON/);
    expect(String((error.cause as Error).message)).toMatch(/not valid JSON \(unexpected character/);
    for (const piece of fragments(PASSWORD))
      expect(JSON.stringify({ m: error.message, c: (error.cause as Error).message })).not.toContain(piece);
  });
});

describe('a credential value with white space around a field', () => {
  // Docker Hub compares the token as written: a newline pasted with it is a refused login that
  // says only "incorrect username or password". The check names the field instead, not the value.
  it.each([
    [
      'a newline after the token',
      { username: 'keeper-ci', accessToken: `dckr_pat_${PASSWORD}\n` },
      'accessToken',
    ],
    [
      'a space before the token',
      { username: 'keeper-ci', accessToken: ` dckr_pat_${PASSWORD}` },
      'accessToken',
    ],
    [
      'a space after the username',
      { username: 'keeper-ci ', accessToken: `dckr_pat_${PASSWORD}` },
      'username',
    ],
  ])('%s: malformed, naming %s and never its value', (_name, value, field) => {
    let error = new Error('not thrown') as Error & { problem?: string };
    try {
      parseCredentialValue('ecr-pullthroughcache/docker-hub', JSON.stringify(value));
    } catch (e) {
      error = e as Error & { problem?: string };
    }
    expect(error.problem).toBe('padded');
    expect(error.message).toBe(
      `secret ecr-pullthroughcache/docker-hub: "${field}" has white space before or after it (a pasted newline?); Docker Hub takes it as written and refuses the login`,
    );
    for (const piece of fragments(PASSWORD)) expect(error.message).not.toContain(piece);
  });

  it('white space inside is not ours to judge', () => {
    expect(
      parseCredentialValue('ecr-pullthroughcache/docker-hub', '{"username":"keeper ci","accessToken":"a b"}'),
    ).toEqual({ username: 'keeper ci', accessToken: 'a b' });
  });
});

describe('unfinishedRotation', () => {
  it.each([
    ['no rotation', { v1: ['AWSCURRENT'] }, undefined],
    [
      'a finished one (AWSPENDING left on AWSCURRENT)',
      { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT', 'AWSPENDING'] },
      undefined,
    ],
    ['one stopped before it ended', { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, 'v2'],
    ['a staged token beside it', { v1: ['AWSCURRENT'], v2: ['KEEPER_STAGED'], v3: ['AWSPENDING'] }, 'v3'],
    ['a staged token alone', { v1: ['AWSCURRENT'], v2: ['KEEPER_STAGED'] }, undefined],
  ])('%s', (_case, versionIdsToStages, expected) => {
    expect(unfinishedRotation({ versionIdsToStages })).toBe(expected);
  });
});
