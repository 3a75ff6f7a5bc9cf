import {
  DescribePullThroughCacheRulesCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  LifecyclePolicyNotFoundException,
  ListPullTimeUpdateExclusionsCommand,
  RegistryPolicyNotFoundException,
  ServerException,
} from '@aws-sdk/client-ecr';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config/load.js';
import { readActualState } from '../../../lib/ecr/state.js';

const ecrMock = mockClient(ECRClient);
const smMock = mockClient(SecretsManagerClient);
const clients = {
  ecr: new ECRClient({ region: 'us-east-1' }),
  secrets: new SecretsManagerClient({ region: 'us-east-1' }),
};
const meta = { $metadata: {}, message: 'm' };
const RULES = `
rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
`;
const config = parseConfig(RULES);
/** DescribeRepositories listing these names, their ARNs arn:1, arn:2, … in order. */
const listing = (...names: string[]) =>
  ecrMock.on(DescribeRepositoriesCommand).resolves({
    repositories: names.map((repositoryName, i) => ({ repositoryName, repositoryArn: `arn:${i + 1}` })),
  });

beforeEach(() => {
  ecrMock.reset();
  smMock.reset();
  ecrMock.on(DescribePullThroughCacheRulesCommand).resolves({ pullThroughCacheRules: [] });
  ecrMock.on(DescribeRepositoryCreationTemplatesCommand).resolves({ repositoryCreationTemplates: [] });
  ecrMock.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
  smMock.on(DescribeSecretCommand).resolves({
    ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:ecr-pullthroughcache/docker-hub-AbCdEf',
    Name: 'ecr-pullthroughcache/docker-hub',
  });
  smMock.on(GetSecretValueCommand).resolves({ SecretString: '{"username":"u","accessToken":"t0ken-value"}' });
});

describe('readActualState', () => {
  it('reads every page of rules and templates with 1000 a page', async () => {
    ecrMock
      .on(DescribePullThroughCacheRulesCommand)
      .resolvesOnce({ pullThroughCacheRules: [{ ecrRepositoryPrefix: 'a' }], nextToken: 'n1' })
      .resolvesOnce({ pullThroughCacheRules: [{ ecrRepositoryPrefix: 'b' }] });
    const state = await readActualState(clients, config);
    expect([...state.rules.keys()]).toEqual(['a', 'b']);
    const calls = ecrMock.commandCalls(DescribePullThroughCacheRulesCommand);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.args[0].input.maxResults)).toEqual([1000, 1000]);
  });

  it('reads the repositories under managed prefixes and their lifecycle policies, absent ones included', async () => {
    listing('docker-hub/library/node', 'docker-hub/library/redis', 'team/app');
    ecrMock
      .on(GetLifecyclePolicyCommand, { repositoryName: 'docker-hub/library/node' })
      .resolves({ lifecyclePolicyText: '{"rules":[]}' });
    ecrMock
      .on(GetLifecyclePolicyCommand, { repositoryName: 'docker-hub/library/redis' })
      .rejects(new LifecyclePolicyNotFoundException(meta));
    const state = await readActualState(clients, config, { includeRepositories: true });
    expect(state.repositories.get('docker-hub')).toEqual([
      { name: 'docker-hub/library/node', arn: 'arn:1', lifecyclePolicy: '{"rules":[]}' },
      { name: 'docker-hub/library/redis', arn: 'arn:2', lifecyclePolicy: undefined },
    ]);
    expect(ecrMock.commandCalls(GetLifecyclePolicyCommand)).toHaveLength(2);
  });

  it('leaves the repositories reconcile.excludeRepositories names unread, and lists them', async () => {
    listing('docker-hub/library/node', 'docker-hub/team-d/alpha', 'docker-hub/team-d/bravo/x');
    ecrMock.on(GetLifecyclePolicyCommand).rejects(new LifecyclePolicyNotFoundException(meta));
    const excluding = parseConfig(`${RULES}reconcile: { excludeRepositories: [docker-hub/team-d/*] }\n`);
    const state = await readActualState(clients, excluding, { includeRepositories: true });
    expect(state.repositories.get('docker-hub')?.map((r) => r.name)).toEqual(['docker-hub/library/node']);
    expect(state.excluded).toEqual(['docker-hub/team-d/alpha', 'docker-hub/team-d/bravo/x']);
    expect(
      ecrMock.commandCalls(GetLifecyclePolicyCommand).map((c) => c.args[0].input.repositoryName),
    ).toEqual(['docker-hub/library/node']);
  });

  it('lets other lifecycle errors through instead of treating them as "no policy"', async () => {
    ecrMock
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'docker-hub/x', repositoryArn: 'a' }] });
    ecrMock.on(GetLifecyclePolicyCommand).rejects(new ServerException(meta));
    await expect(readActualState(clients, config, { includeRepositories: true })).rejects.toBeInstanceOf(
      ServerException,
    );
  });

  it('records a missing credential secret as a problem of that secret', async () => {
    smMock.on(DescribeSecretCommand).rejects(new ResourceNotFoundException(meta));
    const state = await readActualState(clients, config);
    const secret = state.secrets.get('ecr-pullthroughcache/docker-hub');
    expect(secret?.ok).toBe(false);
    expect(secret && !secret.ok && secret.error.problem).toBe('missing');
  });

  it('lists pull-time update exclusions across pages only when asked', async () => {
    ecrMock
      .on(ListPullTimeUpdateExclusionsCommand)
      .resolvesOnce({ pullTimeUpdateExclusions: ['arn:a'], nextToken: 't' })
      .resolvesOnce({ pullTimeUpdateExclusions: ['arn:b'] });
    expect((await readActualState(clients, config)).exclusions).toEqual([]);
    expect(ecrMock.commandCalls(ListPullTimeUpdateExclusionsCommand)).toHaveLength(0);
    expect((await readActualState(clients, config, { includeExclusions: true })).exclusions).toEqual([
      'arn:a',
      'arn:b',
    ]);
  });

  describe('without access:, the registry policy alone (to show what an earlier access: left)', () => {
    const denied = Object.assign(new Error('not authorized to perform: ecr:GetRegistryPolicy'), {
      name: 'AccessDeniedException',
    });
    it.each([
      ['held', { policyText: '{"Statement":[]}' }, { text: '{"Statement":[]}' }],
      ['none', new RegistryPolicyNotFoundException(meta), { text: undefined }],
      ['denied to the caller (advisory: the plan goes on)', denied, undefined],
    ])('%s', async (_case, answer, expected) => {
      if (answer instanceof Error) ecrMock.on(GetRegistryPolicyCommand).rejects(answer);
      else ecrMock.on(GetRegistryPolicyCommand).resolves(answer);
      const state = await readActualState(clients, config, { includeRegistryPolicy: true });
      expect(state.registryPolicy).toEqual(expected);
      expect((await readActualState(clients, config)).registryPolicy).toBeUndefined();
    });

    it('lets any other error through', async () => {
      ecrMock.on(GetRegistryPolicyCommand).rejects(new ServerException(meta));
      await expect(readActualState(clients, config, { includeRegistryPolicy: true })).rejects.toBeInstanceOf(
        ServerException,
      );
    });
  });
});
