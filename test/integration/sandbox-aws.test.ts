/** The sandbox's AWS APIs, driven through the real SDK v3 clients: behaviour and AWS's error classes. */
import {
  GetMetricDataCommand,
  InvalidParameterValueException,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  BatchGetImageCommand,
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteLifecyclePolicyCommand,
  DeletePullThroughCacheRuleCommand,
  DeleteRegistryPolicyCommand,
  DeleteRepositoryCreationTemplateCommand,
  DeleteRepositoryPolicyCommand,
  DeregisterPullTimeUpdateExclusionCommand,
  DescribeImagesCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  ExclusionAlreadyExistsException,
  ExclusionNotFoundException,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  GetRegistryPolicyCommand,
  GetRepositoryPolicyCommand,
  ImageNotFoundException,
  InvalidParameterException,
  LifecyclePolicyNotFoundException,
  LimitExceededException,
  ListPullTimeUpdateExclusionsCommand,
  ListTagsForResourceCommand,
  PullThroughCacheRuleAlreadyExistsException,
  PullThroughCacheRuleNotFoundException,
  PutLifecyclePolicyCommand,
  PutRegistryPolicyCommand,
  paginateDescribeRepositories,
  RegisterPullTimeUpdateExclusionCommand,
  RegistryPolicyNotFoundException,
  RepositoryNotFoundException,
  RepositoryPolicyNotFoundException,
  SecretNotFoundException,
  SetRepositoryPolicyCommand,
  TemplateAlreadyExistsException,
  TemplateNotFoundException,
  UnableToDecryptSecretValueException,
  UnsupportedUpstreamRegistryException,
  UpdatePullThroughCacheRuleCommand,
  UpdateRepositoryCreationTemplateCommand,
  ValidatePullThroughCacheRuleCommand,
  ValidationException,
} from '@aws-sdk/client-ecr';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lib/aws/clients.js';
import { RegistryClient } from '../../lib/registry/client.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { guardrailPolicy } from '../support/guardrail.js';

const KEEP_SIX = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'Keep only the last 6 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 6 },
      action: { type: 'expire' },
    },
  ],
});

let sandbox: Sandbox;
let aws: AwsClients;

beforeAll(async () => {
  sandbox = await startSandbox();
  aws = createAwsClients({ ...sandbox.clientOptions, maxAttempts: 1 });
});
afterAll(() => sandbox.stop());

describe('ECR pull-through cache rules', () => {
  it('creates, describes (paginated), validates, updates and deletes a rule', async () => {
    const created = await aws.ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'docker-hub',
        upstreamRegistryUrl: 'registry-1.docker.io',
        credentialArn: sandbox.seeded!.secretArn,
      }),
    );
    expect(created.upstreamRegistry).toBe('docker-hub');
    await aws.ecr.send(
      new CreatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'ecr-public',
        upstreamRegistryUrl: 'public.ecr.aws',
      }),
    );
    const first = await aws.ecr.send(new DescribePullThroughCacheRulesCommand({ maxResults: 1 }));
    expect(first.pullThroughCacheRules).toHaveLength(1);
    const second = await aws.ecr.send(
      new DescribePullThroughCacheRulesCommand({ maxResults: 1, nextToken: first.nextToken }),
    );
    expect(second.pullThroughCacheRules?.[0]?.ecrRepositoryPrefix).toBe('ecr-public');
    expect(second.nextToken).toBeUndefined();

    const valid = await aws.ecr.send(
      new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub' }),
    );
    expect(valid.isValid).toBe(true);

    const updated = await aws.ecr.send(
      new UpdatePullThroughCacheRuleCommand({
        ecrRepositoryPrefix: 'docker-hub',
        credentialArn: sandbox.seeded!.secretArn,
      }),
    );
    expect(updated.updatedAt).toBeInstanceOf(Date);
    await aws.ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ecr-public' }));
    const after = await aws.ecr.send(new DescribePullThroughCacheRulesCommand({}));
    expect(after.pullThroughCacheRules?.map((r) => r.ecrRepositoryPrefix)).toEqual(['docker-hub']);
  });

  it('validation fails once the PAT in the secret is deactivated', async () => {
    sandbox.seeded!.pat.is_active = false;
    try {
      const result = await aws.ecr.send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'docker-hub' }),
      );
      expect(result.isValid).toBe(false);
      expect(result.failure).toMatch(/inactive|denied/);
    } finally {
      sandbox.seeded!.pat.is_active = true;
    }
  });
});

describe('repository creation templates and pulls through the cache', () => {
  it('creates the repository from the template on the first pull, with its lifecycle policy', async () => {
    await aws.ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'docker-hub',
        appliedFor: ['PULL_THROUGH_CACHE'],
        lifecyclePolicy: KEEP_SIX,
      }),
    );
    const templates = await aws.ecr.send(new DescribeRepositoryCreationTemplatesCommand({}));
    expect(templates.repositoryCreationTemplates?.[0]).toMatchObject({
      prefix: 'docker-hub',
      lifecyclePolicy: KEEP_SIX,
      imageTagMutability: 'MUTABLE',
    });

    const auth = (await aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    expect(auth.proxyEndpoint).toBe(sandbox.urls.registry);
    const registry = new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
    });
    const manifest = await registry.getManifest('docker-hub/library/node', '22-alpine');
    expect(manifest.mediaType).toBe('application/vnd.oci.image.index.v1+json');

    const repos = await aws.ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['docker-hub/library/node'] }),
    );
    expect(repos.repositories?.[0]?.repositoryUri).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/node',
    );
    const policy = await aws.ecr.send(
      new GetLifecyclePolicyCommand({ repositoryName: 'docker-hub/library/node' }),
    );
    expect(policy.lifecyclePolicyText).toBe(KEEP_SIX);

    const images = await aws.ecr.send(
      new DescribeImagesCommand({ repositoryName: 'docker-hub/library/node' }),
    );
    const list = images.imageDetails!.find((i) => i.imageTags?.includes('22-alpine'))!;
    const children = images.imageDetails!.filter((i) => !i.imageTags);
    expect(children).toHaveLength(2);
    // A manifest list's size is its largest child's, never the sum.
    expect(list.imageSizeInBytes).toBe(Math.max(...children.map((c) => c.imageSizeInBytes!)));

    const batch = await aws.ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'docker-hub/library/node',
        imageIds: [{ imageTag: '22-alpine' }, { imageTag: 'nope' }],
      }),
    );
    expect(batch.images?.[0]?.imageId?.imageDigest).toBe(manifest.digest);
    expect(batch.failures?.[0]?.failureCode).toBeDefined();
    expect(sandbox.ecrRegistry.events.at(-1)?.detail).toMatchObject({
      'sync-status': 'SUCCESS',
      'repository-name': 'docker-hub/library/node',
      'image-tag': '22-alpine',
    });
  });

  it('updates a template and puts, reads and deletes lifecycle policies', async () => {
    const updated = await aws.ecr.send(
      new UpdateRepositoryCreationTemplateCommand({ prefix: 'docker-hub', description: 'changed' }),
    );
    expect(updated.repositoryCreationTemplate).toMatchObject({
      description: 'changed',
      lifecyclePolicy: KEEP_SIX,
    });
    await aws.ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'docker-hub/library/node' }));
    await expect(
      aws.ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'docker-hub/library/node' })),
    ).rejects.toBeInstanceOf(LifecyclePolicyNotFoundException);
    await aws.ecr.send(
      new PutLifecyclePolicyCommand({
        repositoryName: 'docker-hub/library/node',
        lifecyclePolicyText: KEEP_SIX,
      }),
    );
    const tags = await aws.ecr.send(
      new ListTagsForResourceCommand({
        resourceArn: 'arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/library/node',
      }),
    );
    expect(tags.tags).toEqual([]);
  });

  it('pages DescribeRepositories with the SDK paginator', async () => {
    for (let i = 0; i < 5; i++) sandbox.ecr.createRepository(`team/app${i}`);
    const names: string[] = [];
    for await (const page of paginateDescribeRepositories({ client: aws.ecr, pageSize: 2 }, {})) {
      names.push(...(page.repositories ?? []).map((r) => r.repositoryName!));
    }
    expect(names.filter((n) => n.startsWith('team/'))).toHaveLength(5);
  });

  it('registers, lists and deregisters pull-time update exclusions', async () => {
    const arn = 'arn:aws:iam::123456789012:role/prewarm';
    await aws.ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: arn }));
    expect(
      (await aws.ecr.send(new ListPullTimeUpdateExclusionsCommand({}))).pullTimeUpdateExclusions,
    ).toEqual([arn]);
    await expect(
      aws.ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: arn })),
    ).rejects.toBeInstanceOf(ExclusionAlreadyExistsException);
    await aws.ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: arn }));
    await expect(
      aws.ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: arn })),
    ).rejects.toBeInstanceOf(ExclusionNotFoundException);
  });
});

describe('registry and repository policies', () => {
  const statement = {
    Sid: 'Pull',
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::222222222222:root' },
    Action: ['ecr:BatchGetImage'],
  };
  const doc = (s: object) => JSON.stringify({ Version: '2012-10-17', Statement: [s] });

  it('puts, reads and deletes the registry policy; without one, RegistryPolicyNotFoundException', async () => {
    await expect(aws.ecr.send(new GetRegistryPolicyCommand({}))).rejects.toBeInstanceOf(
      RegistryPolicyNotFoundException,
    );
    const text = doc({
      ...statement,
      Action: ['ecr:CreateRepository', 'ecr:BatchImportUpstreamImage'],
      Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/*'],
    });
    await aws.ecr.send(new PutRegistryPolicyCommand({ policyText: text }));
    expect((await aws.ecr.send(new GetRegistryPolicyCommand({}))).policyText).toBe(text);
    expect((await aws.ecr.send(new DescribeRegistryCommand({}))).registryId).toBe('123456789012');
    await aws.ecr.send(new DeleteRegistryPolicyCommand({}));
    await expect(aws.ecr.send(new DeleteRegistryPolicyCommand({}))).rejects.toBeInstanceOf(
      RegistryPolicyNotFoundException,
    );
  });

  it.each<[string, object]>([
    [
      'an action ECR does not enforce in a registry policy',
      { ...statement, Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/*'] },
    ],
    [
      'a repository of another registry',
      {
        ...statement,
        Action: 'ecr:CreateRepository',
        Resource: 'arn:aws:ecr:us-east-1:999999999999:repository/*',
      },
    ],
    [
      'no Principal',
      {
        Effect: 'Allow',
        Action: 'ecr:CreateRepository',
        Resource: 'arn:aws:ecr:us-east-1:123456789012:repository/*',
      },
    ],
  ])('refuses a registry policy with %s', async (_name, s) => {
    await expect(aws.ecr.send(new PutRegistryPolicyCommand({ policyText: doc(s) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message:
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'",
    });
  });

  it('sets, reads and deletes a repository policy, and refuses one without a Principal', async () => {
    const repositoryName = 'policy-test';
    await aws.ecr.send(new CreateRepositoryCommand({ repositoryName }));
    await expect(aws.ecr.send(new GetRepositoryPolicyCommand({ repositoryName }))).rejects.toBeInstanceOf(
      RepositoryPolicyNotFoundException,
    );
    await aws.ecr.send(new SetRepositoryPolicyCommand({ repositoryName, policyText: doc(statement) }));
    expect((await aws.ecr.send(new GetRepositoryPolicyCommand({ repositoryName }))).policyText).toBe(
      doc(statement),
    );
    await expect(
      aws.ecr.send(
        new SetRepositoryPolicyCommand({
          repositoryName,
          policyText: doc({ ...statement, Principal: undefined }),
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await aws.ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName }));
    await expect(aws.ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName }))).rejects.toBeInstanceOf(
      RepositoryPolicyNotFoundException,
    );
  });
});

describe("a repository's own policy on the API calls that name it", () => {
  it('an explicit Deny there refuses a caller whose identity policy allows; an Allow for others takes nothing away', async () => {
    const repositoryName = 'guarded';
    await aws.ecr.send(new CreateRepositoryCommand({ repositoryName }));
    // Someone else's statement granting another account: the registry's own callers are unaffected.
    await aws.ecr.send(
      new SetRepositoryPolicyCommand({
        repositoryName,
        policyText: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'Pull',
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::222222222222:root' },
              Action: 'ecr:BatchGetImage',
            },
          ],
        }),
      }),
    );
    await aws.ecr.send(new DescribeImagesCommand({ repositoryName }));
    // A guardrail: only the platform's admin role may read it.
    await aws.ecr.send(
      new SetRepositoryPolicyCommand({
        repositoryName,
        policyText: guardrailPolicy('ecr:Describe*'),
      }),
    );
    await expect(aws.ecr.send(new DescribeImagesCommand({ repositoryName }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:us-east-1:123456789012:repository\/guarded with an explicit deny in a resource-based policy$/,
      ),
    });
    // Other repositories, and the calls the Deny does not name, are as before.
    await aws.ecr.send(new GetRepositoryPolicyCommand({ repositoryName }));
    await aws.ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName }));
    await aws.ecr.send(new DescribeImagesCommand({ repositoryName }));
  });
});

describe("a secret's own policy on the API calls that name it", () => {
  it("an explicit Deny there refuses a caller whose identity policy allows (ECR's own reading of it is not through this API: test/integration/credential.test.ts)", async () => {
    const name = 'ecr-pullthroughcache/guarded';
    await aws.secrets.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: JSON.stringify({ username: 'u', accessToken: 't' }),
      }),
    );
    await aws.secrets.send(new GetSecretValueCommand({ SecretId: name }));
    sandbox.secrets.find(name).resourcePolicy = guardrailPolicy('secretsmanager:GetSecretValue');
    await expect(aws.secrets.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache\/guarded-\w{6} with an explicit deny in a resource-based policy$/,
      ),
    });
    // What the Deny does not name is as before.
    await aws.secrets.send(new DescribeSecretCommand({ SecretId: name }));
    sandbox.secrets.find(name).resourcePolicy = undefined;
    await aws.secrets.send(new GetSecretValueCommand({ SecretId: name }));
  });
});

describe('ECR reading the credential secret, as its pull-through service-linked role', () => {
  const SERVICE_ROLE_READ =
    /AWSServiceRoleForECRPullThroughCache\/.* is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache\/docker-hub-\w{6} with an explicit deny in a resource-based policy/;
  const pull = async (repository: string) => {
    const auth = (await aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    return new RegistryClient({
      baseUrl: auth.proxyEndpoint!,
      credentials: { basic: auth.authorizationToken! },
      attempts: 1,
    }).getManifest(repository, '1.36');
  };
  it("is refused by a guardrail on the secret that forgets ECR's service role: validation fails, and so does a first pull, saying why", async () => {
    await aws.ecr
      .send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'guarded-hub',
          upstreamRegistryUrl: 'registry-1.docker.io',
          credentialArn: sandbox.seeded!.secretArn,
        }),
      )
      .catch(() => undefined);
    const secret = sandbox.secrets.find(sandbox.seeded!.secretArn);
    secret.resourcePolicy = guardrailPolicy('secretsmanager:GetSecretValue');
    try {
      const refused = await aws.ecr.send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'guarded-hub' }),
      );
      expect(refused.isValid).toBe(false);
      expect(refused.failure).toMatch(SERVICE_ROLE_READ);
      await expect(pull('guarded-hub/library/busybox')).rejects.toMatchObject({
        message: expect.stringMatching(SERVICE_ROLE_READ),
      });
      // A guardrail that exempts AWS's service roles lets ECR read it, as before.
      secret.resourcePolicy = guardrailPolicy('secretsmanager:GetSecretValue', { exemptServiceRoles: true });
      const valid = await aws.ecr.send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'guarded-hub' }),
      );
      expect(valid).toMatchObject({ isValid: true });
      await pull('guarded-hub/library/busybox');
    } finally {
      secret.resourcePolicy = undefined;
    }
  });
});

describe('misuse gets the AWS error classes', () => {
  const cases: Array<[string, () => Promise<unknown>, new (...args: never[]) => Error]> = [
    [
      'duplicate rule',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'docker-hub',
            upstreamRegistryUrl: 'registry-1.docker.io',
            credentialArn: sandbox.seeded!.secretArn,
          }),
        ),
      PullThroughCacheRuleAlreadyExistsException,
    ],
    [
      'Docker Hub rule without a secret',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'hub2',
            upstreamRegistryUrl: 'registry-1.docker.io',
          }),
        ),
      UnsupportedUpstreamRegistryException,
    ],
    [
      'unsupported upstream',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'other',
            upstreamRegistryUrl: 'registry.example.com',
          }),
        ),
      UnsupportedUpstreamRegistryException,
    ],
    [
      'missing secret',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'hub3',
            upstreamRegistryUrl: 'registry-1.docker.io',
            // Well formed (the model checks the ARN's shape first), but no such secret.
            credentialArn:
              'arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/nope-AbCdEf',
          }),
        ),
      SecretNotFoundException,
    ],
    [
      'a credential ARN outside ecr-pullthroughcache/ (the model’s pattern)',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'hub4',
            upstreamRegistryUrl: 'registry-1.docker.io',
            credentialArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:team/docker-hub-AbCdEf',
          }),
        ),
      ValidationException,
    ],
    [
      'bad prefix',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'Bad_Prefix!',
            upstreamRegistryUrl: 'quay.io',
          }),
        ),
      ValidationException,
    ],
    [
      'upstream prefix on ROOT',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'ROOT',
            upstreamRegistryUrl: 'quay.io',
            upstreamRepositoryPrefix: 'xy',
          }),
        ),
      InvalidParameterException,
    ],
    [
      'an upstream prefix of one character (the model: 2–30)',
      () =>
        aws.ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'quay2',
            upstreamRegistryUrl: 'quay.io',
            upstreamRepositoryPrefix: 'x',
          }),
        ),
      ValidationException,
    ],
    [
      'update a missing rule',
      () =>
        aws.ecr.send(
          new UpdatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'nope',
            credentialArn: sandbox.seeded!.secretArn,
          }),
        ),
      PullThroughCacheRuleNotFoundException,
    ],
    [
      'delete a missing rule',
      () => aws.ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'nope' })),
      PullThroughCacheRuleNotFoundException,
    ],
    [
      'validate a missing rule',
      () => aws.ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'nope' })),
      PullThroughCacheRuleNotFoundException,
    ],
    [
      'duplicate template',
      () =>
        aws.ecr.send(
          new CreateRepositoryCreationTemplateCommand({
            prefix: 'docker-hub',
            appliedFor: ['PULL_THROUGH_CACHE'],
          }),
        ),
      TemplateAlreadyExistsException,
    ],
    [
      'template tags without a role',
      () =>
        aws.ecr.send(
          new CreateRepositoryCreationTemplateCommand({
            prefix: 'tagged',
            appliedFor: ['PULL_THROUGH_CACHE'],
            resourceTags: [{ Key: 'a', Value: 'b' }],
          }),
        ),
      InvalidParameterException,
    ],
    [
      'update a missing template',
      () => aws.ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'nope', description: 'x' })),
      TemplateNotFoundException,
    ],
    [
      'delete a missing template',
      () => aws.ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'nope' })),
      TemplateNotFoundException,
    ],
    [
      'describe a missing repository',
      () => aws.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope/nope'] })),
      RepositoryNotFoundException,
    ],
    [
      'images of a missing repository',
      () => aws.ecr.send(new DescribeImagesCommand({ repositoryName: 'nope/nope' })),
      RepositoryNotFoundException,
    ],
    [
      'a missing image by tag',
      () =>
        aws.ecr.send(
          new DescribeImagesCommand({
            repositoryName: 'docker-hub/library/node',
            imageIds: [{ imageTag: 'nope' }],
          }),
        ),
      ImageNotFoundException,
    ],
    [
      'imageIds with paging',
      () =>
        aws.ecr.send(
          new DescribeImagesCommand({
            repositoryName: 'docker-hub/library/node',
            imageIds: [{ imageTag: '22-alpine' }],
            maxResults: 5,
          }),
        ),
      InvalidParameterException,
    ],
    [
      'maxResults over 1000',
      () => aws.ecr.send(new DescribeRepositoriesCommand({ maxResults: 1001 })),
      ValidationException,
    ],
    [
      'a lifecycle policy that is not JSON',
      () =>
        aws.ecr.send(
          new PutLifecyclePolicyCommand({
            repositoryName: 'docker-hub/library/node',
            lifecyclePolicyText: `{not json${' '.repeat(100)}`,
          }),
        ),
      InvalidParameterException,
    ],
    [
      'a bad exclusion principal',
      () => aws.ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: 'not-an-arn' })),
      ValidationException,
    ],
    [
      'a secret nobody created',
      () => aws.secrets.send(new GetSecretValueCommand({ SecretId: 'ecr-pullthroughcache/nope' })),
      ResourceNotFoundException,
    ],
    [
      'a metric in an AWS/ namespace',
      () =>
        aws.cloudwatch.send(
          new PutMetricDataCommand({ Namespace: 'AWS/ECR', MetricData: [{ MetricName: 'x', Value: 1 }] }),
        ),
      InvalidParameterValueException,
    ],
    [
      '1001 datums in one call',
      () =>
        aws.cloudwatch.send(
          new PutMetricDataCommand({
            Namespace: 'K',
            MetricData: Array.from({ length: 1001 }, () => ({ MetricName: 'x', Value: 1 })),
          }),
        ),
      InvalidParameterValueException,
    ],
    [
      // PutMetricData's reference: time stamps as much as two weeks before now and 2 hours after.
      'a datum stamped more than two weeks ago',
      () =>
        aws.cloudwatch.send(
          new PutMetricDataCommand({
            Namespace: 'K',
            MetricData: [
              { MetricName: 'x', Value: 1, Timestamp: new Date(sandbox.clock.now() - 15 * 86_400_000) },
            ],
          }),
        ),
      InvalidParameterValueException,
    ],
    [
      'a datum stamped more than 2 hours ahead',
      () =>
        aws.cloudwatch.send(
          new PutMetricDataCommand({
            Namespace: 'K',
            MetricData: [
              { MetricName: 'x', Value: 1, Timestamp: new Date(sandbox.clock.now() + 3 * 3_600_000) },
            ],
          }),
        ),
      InvalidParameterValueException,
    ],
    [
      'a NaN metric value',
      () =>
        aws.cloudwatch.send(
          new PutMetricDataCommand({ Namespace: 'K', MetricData: [{ MetricName: 'x', Value: Number.NaN }] }),
        ),
      InvalidParameterValueException,
    ],
  ];
  it.each(cases)('%s', async (_name, call, errorClass) => {
    await expect(call()).rejects.toBeInstanceOf(errorClass);
  });

  it('a secret under a customer-managed KMS key cannot back a rule', async () => {
    const secret = sandbox.secrets.create('ecr-pullthroughcache/cmk', '{"username":"a","accessToken":"b"}', {
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abc',
    });
    await expect(
      aws.ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'cmk',
          upstreamRegistryUrl: 'registry-1.docker.io',
          credentialArn: secret.arn,
        }),
      ),
    ).rejects.toBeInstanceOf(UnableToDecryptSecretValueException);
  });

  it('a 51st rule exceeds the limit', async () => {
    for (let i = sandbox.ecr.rules.size; i < 50; i++) {
      await aws.ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: `quay${i}`,
          upstreamRegistryUrl: 'quay.io',
        }),
      );
    }
    await expect(
      aws.ecr.send(
        new CreatePullThroughCacheRuleCommand({
          ecrRepositoryPrefix: 'quay-extra',
          upstreamRegistryUrl: 'quay.io',
        }),
      ),
    ).rejects.toBeInstanceOf(LimitExceededException);
    for (let i = 0; i < 50; i++) sandbox.ecr.rules.delete(`quay${i}`);
  });
});

describe.each(['ecr-only', 'any'] as const)(
  'an upstream prefix on a rule whose upstream is not ECR (setting upstreamPrefixScope: %s)',
  (scope) => {
    // AWS documents upstreamRepositoryPrefix for ECR-to-ECR rules; whether other upstreams take it is unknown.
    it(scope === 'ecr-only' ? 'is refused, and no rule is created' : 'is taken', async () => {
      const own = await startSandbox({ upstreamPrefixScope: scope });
      try {
        const ecr = createAwsClients({ ...own.clientOptions, maxAttempts: 1 }).ecr;
        const create = ecr.send(
          new CreatePullThroughCacheRuleCommand({
            ecrRepositoryPrefix: 'official',
            upstreamRegistryUrl: 'registry-1.docker.io',
            credentialArn: own.seeded!.secretArn,
            upstreamRepositoryPrefix: 'library',
          }),
        );
        if (scope === 'ecr-only') {
          await expect(create).rejects.toThrow(InvalidParameterException);
          expect(own.ecr.rules.has('official')).toBe(false);
        } else {
          await create;
          expect(own.ecr.rules.get('official')?.upstreamRepositoryPrefix).toBe('library');
        }
      } finally {
        await own.stop();
      }
    });
  },
);

describe('Secrets Manager', () => {
  it('PutSecretValue is idempotent on ClientRequestToken and moves stages', async () => {
    const id = 'ecr-pullthroughcache/docker-hub';
    const token = '11111111-2222-3333-4444-555555555555';
    await aws.secrets.send(
      new PutSecretValueCommand({
        SecretId: id,
        ClientRequestToken: token,
        SecretString: '{"username":"u","accessToken":"new"}',
        VersionStages: ['AWSPENDING'],
      }),
    );
    await aws.secrets.send(
      new PutSecretValueCommand({
        SecretId: id,
        ClientRequestToken: token,
        SecretString: '{"username":"u","accessToken":"new"}',
        VersionStages: ['AWSPENDING'],
      }),
    );
    await expect(
      aws.secrets.send(
        new PutSecretValueCommand({
          SecretId: id,
          ClientRequestToken: token,
          SecretString: 'different',
          VersionStages: ['AWSPENDING'],
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceExistsException);
    const pending = await aws.secrets.send(
      new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPENDING' }),
    );
    expect(pending.VersionId).toBe(token);
    const describe = await aws.secrets.send(new DescribeSecretCommand({ SecretId: id }));
    const current = Object.entries(describe.VersionIdsToStages!).find(([, s]) =>
      s.includes('AWSCURRENT'),
    )![0];
    await aws.secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: id,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: current,
      }),
    );
    const after = await aws.secrets.send(new DescribeSecretCommand({ SecretId: id }));
    expect(after.VersionIdsToStages![token]).toContain('AWSCURRENT');
    expect(after.VersionIdsToStages![current]).toEqual(['AWSPREVIOUS']);
    await aws.secrets.send(new TagResourceCommand({ SecretId: id, Tags: [{ Key: 'pat-uuid', Value: 'x' }] }));
    expect((await aws.secrets.send(new DescribeSecretCommand({ SecretId: id }))).Tags).toContainEqual({
      Key: 'pat-uuid',
      Value: 'x',
    });
  });

  it('holds a secret to 50 tags (aws: ones not counted), as the TagResource reference says', async () => {
    const id = 'ecr-pullthroughcache/docker-hub';
    const have = (await aws.secrets.send(new DescribeSecretCommand({ SecretId: id }))).Tags!.length;
    const tags = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({ Key: `${prefix}-${i}`, Value: 'x' }));
    await aws.secrets.send(new TagResourceCommand({ SecretId: id, Tags: tags(50 - have, 'org') }));
    await expect(
      aws.secrets.send(new TagResourceCommand({ SecretId: id, Tags: tags(1, 'one-more') })),
    ).rejects.toThrow(/at most 50 tags/);
    // Setting one it has already is no new tag.
    await aws.secrets.send(new TagResourceCommand({ SecretId: id, Tags: [{ Key: 'org-0', Value: 'y' }] }));
  });

  it('a secret deleted with a recovery window is described (DeletedDate), refused to everything else, and restored', async () => {
    const id = 'ecr-pullthroughcache/docker-hub';
    const deleted = await aws.secrets.send(
      new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }),
    );
    const described = await aws.secrets.send(new DescribeSecretCommand({ SecretId: id }));
    expect(described.DeletedDate).toEqual(deleted.DeletionDate);
    await expect(aws.secrets.send(new GetSecretValueCommand({ SecretId: id }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    await aws.secrets.send(new RestoreSecretCommand({ SecretId: id }));
    expect((await aws.secrets.send(new DescribeSecretCommand({ SecretId: id }))).DeletedDate).toBeUndefined();
    await aws.secrets.send(new GetSecretValueCommand({ SecretId: id }));
  });
});

describe('CloudWatch', () => {
  it('stores metric data and reads it back with GetMetricData', async () => {
    const now = new Date();
    await aws.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'EcrCacheKeeper',
        MetricData: [
          { MetricName: 'CacheBytes', Value: 42, Dimensions: [{ Name: 'Prefix', Value: 'docker-hub' }] },
        ],
      }),
    );
    const data = await aws.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 60_000),
        EndTime: new Date(now.getTime() + 60_000),
        MetricDataQueries: [
          {
            Id: 'bytes',
            MetricStat: {
              Metric: {
                Namespace: 'EcrCacheKeeper',
                MetricName: 'CacheBytes',
                Dimensions: [{ Name: 'Prefix', Value: 'docker-hub' }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    expect(data.MetricDataResults?.[0]?.Values).toEqual([42]);
  });
});
