// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the snippets hold GitHub Actions expressions, ${{ … }} as workflows write them
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../../cli/main.js';
import { rewriteText } from '../../../lib/ci/rewrite.js';
import { CI_SYSTEMS, ciSnippet, registryRegion } from '../../../lib/ci/snippet.js';
import { captureIo } from '../../support/cli-io.js';
import { workflowProblems } from '../../support/github-workflow.js';

const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const example = `${host}/docker-hub/library/node:22`;

describe('ci-snippet', () => {
  it.each(CI_SYSTEMS)(
    '%s: valid YAML (a Jenkinsfile: what rewrite reads) that logs in to the account’s registry in its region and pulls through it',
    (system) => {
      const text = ciSnippet(system, { registryHost: host, example });
      if (system === 'jenkins') {
        // Read back as rewrite reads Jenkinsfiles: every image on the cache, with its credentials.
        const read = rewriteText(text, 'jenkinsfile', {
          registryHost: host,
          rules: [{ prefix: 'docker-hub', upstreamPrefix: 'ROOT', pullHosts: ['docker.io'] }],
        });
        expect(read.notes).toEqual([]);
        expect(read.pulls.map((p) => p.reference)).toEqual([example, example]);
      } else expect(parse(text)).toBeTypeOf('object');
      expect(text).toContain(`docker pull ${example}`);
      expect(text).toContain('ecr:BatchImportUpstreamImage');
      expect(text).toMatch(/eu-west-1/);
    },
  );

  it('github-actions: a whole workflow GitHub’s own parser accepts, as printed', async () => {
    const text = ciSnippet('github-actions', { registryHost: host, example });
    expect(await workflowProblems(text)).toEqual([]);
  });

  it('github-actions assumes a role in the registry’s account and logs in with amazon-ecr-login', () => {
    const doc = parse(ciSnippet('github-actions', { registryHost: host, example }));
    expect(doc.permissions['id-token']).toBe('write');
    expect(doc.jobs.build.steps[0].with).toEqual({
      'role-to-assume': 'arn:aws:iam::123456789012:role/YOUR-CI-ROLE',
      'aws-region': 'eu-west-1',
    });
    expect(doc.jobs.build.steps[1].uses).toMatch(/^aws-actions\/amazon-ecr-login@/);
  });

  it("github-actions: a job's container and services get credentials from a login job before it", () => {
    const doc = parse(ciSnippet('github-actions', { registryHost: host, example }));
    // The runner pulls them before the job's steps run, so its own login comes too late.
    const login = doc.jobs['login-to-cache'];
    const output = 'docker_password_123456789012_dkr_ecr_eu_west_1_amazonaws_com';
    expect(login.steps.at(-1)).toEqual({
      id: 'ecr',
      uses: expect.stringMatching(/^aws-actions\/amazon-ecr-login@/),
      with: { 'mask-password': 'false' },
    });
    expect(login.outputs.password).toBe(`\${{ steps.ecr.outputs.${output} }}`);
    expect(doc.jobs.test.needs).toBe('login-to-cache');
    const credentials = {
      username: '${{ needs.login-to-cache.outputs.username }}',
      password: '${{ needs.login-to-cache.outputs.password }}',
    };
    expect(doc.jobs.test.container).toEqual({ image: example, credentials });
    expect(doc.jobs.test.services.db.credentials).toEqual(credentials);
  });

  it('gitlab says how the runner itself pulls a job’s image: and services: from the cache', () => {
    const text = ciSnippet('gitlab', { registryHost: host, example });
    // The runner, not the job's docker login, pulls them: the ECR credential helper, for this registry.
    expect(text).toContain('docker-credential-ecr-login');
    expect(text).toContain(`DOCKER_AUTH_CONFIG: {"credHelpers": {"${host}": "ecr-login"}}`);
  });

  it.each([
    [host, 'eu-west-1'],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', 'cn-north-1'],
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', 'us-east-1'],
  ])('%s is in %s', (h, region) => expect(registryRegion(h)).toBe(region));

  it("buildkite logs in with the ecr plugin, which runs before the docker plugin pulls the step's image", () => {
    const doc = parse(ciSnippet('buildkite', { registryHost: host, example }));
    const ecr = { 'ecr#v2.11.0': { 'account-ids': '123456789012', region: 'eu-west-1' } };
    expect(doc.steps).toEqual([
      { label: 'build', command: `docker pull ${example}`, plugins: [ecr] },
      { label: 'test', command: 'npm test', plugins: [ecr, { 'docker#v5.13.0': { image: example } }] },
    ]);
  });

  it("circleci: a docker executor's image takes aws_auth with the role (CircleCI pulls it before the steps); a machine job logs in with the aws-cli orb's role", () => {
    const doc = parse(ciSnippet('circleci', { registryHost: host, example }));
    const role = 'arn:aws:iam::123456789012:role/YOUR-CI-ROLE';
    expect(doc.jobs.test.docker).toEqual([{ image: example, aws_auth: { oidc_role_arn: role } }]);
    expect(doc.orbs['aws-cli']).toMatch(/^circleci\/aws-cli@/);
    const steps = doc.jobs.build.steps;
    expect(steps[0]).toEqual({ 'aws-cli/setup': { role_arn: role } });
    expect(steps.slice(1).map((s: { run: string }) => s.run)).toEqual([
      `aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin ${host}`,
      `docker pull ${example}`,
    ]);
  });

  it('circleci: every job the snippet defines runs (CircleCI runs the jobs a workflow lists; without one, only build)', () => {
    const doc = parse(ciSnippet('circleci', { registryHost: host, example }));
    const listed = Object.values(doc.workflows as Record<string, { jobs: Array<string | object> }>).flatMap(
      (workflow) => workflow.jobs.map((job) => (typeof job === 'string' ? job : Object.keys(job)[0])),
    );
    expect(new Set(listed)).toEqual(new Set(Object.keys(doc.jobs)));
  });

  it('bitbucket: the image takes the role as aws: oidc-role (Bitbucket pulls it with what is written beside it), on steps with oidc: true', () => {
    const doc = parse(ciSnippet('bitbucket', { registryHost: host, example }));
    const role = 'arn:aws:iam::123456789012:role/YOUR-CI-ROLE';
    expect(doc.image).toEqual({ name: example, aws: { 'oidc-role': role } });
    const steps = doc.pipelines.default.map((s: { step: Record<string, unknown> }) => s.step);
    for (const step of steps) expect(step.oidc).toBe(true);
    const pull = steps.find((s: { services?: string[] }) => s.services?.includes('docker'));
    expect(pull.script).toEqual(
      expect.arrayContaining([
        `export AWS_ROLE_ARN=${role} AWS_WEB_IDENTITY_TOKEN_FILE=$(mktemp)`,
        `aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin ${host}`,
        `docker pull ${example}`,
      ]),
    );
  });

  it('jenkins: a docker agent names the registry and the Amazon ECR plugin’s credentials; a scripted pull runs inside withRegistry', () => {
    const text = ciSnippet('jenkins', { registryHost: host, example });
    expect(text).toContain(`registryUrl 'https://${host}'`);
    expect(text).toContain("registryCredentialsId 'ecr:eu-west-1:YOUR-AWS-CREDENTIALS-ID'");
    expect(text).toContain(`docker.withRegistry('https://${host}', 'ecr:eu-west-1:YOUR-AWS-CREDENTIALS-ID')`);
  });

  it('azure-pipelines: logs in and pulls in a step with the AWS Toolkit task, as the container job pulls before any step', () => {
    const doc = parse(ciSnippet('azure-pipelines', { registryHost: host, example }));
    expect(doc.container).toBeUndefined();
    expect(doc.steps[0]).toMatchObject({
      task: 'AWSShellScript@1',
      inputs: {
        awsCredentials: 'YOUR-AWS-SERVICE-CONNECTION',
        regionName: 'eu-west-1',
        scriptType: 'inline',
      },
    });
    expect(doc.steps[0].inputs.inlineScript.trim().split('\n')).toEqual([
      `aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin ${host}`,
      `docker pull ${example}`,
    ]);
  });

  it('refuses a host that is not an ECR registry, saying what it expects', () => {
    expect(() => registryRegion('r.example')).toThrow(/"r\.example" is not an ECR registry host/);
  });
});

describe('cache-keeper ci-snippet with rules for other registries', () => {
  const configFile = (yaml: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'keeper-snippet-')), 'keeper.config.yaml');
    writeFileSync(path, yaml);
    return path;
  };
  const snippet = async (yaml: string) => {
    const run = captureIo();
    const code = await runCli(
      ['ci-snippet', '--for', 'gitlab', '--registry', host, '--config', configFile(yaml)],
      run.io,
    );
    return { code, out: run.out.join('\n'), err: run.err.join('\n') };
  };

  it.each([
    [
      'only a Quay rule: its first listed image',
      'rules:\n  - { prefix: quay, upstream: quay }\nprewarm:\n  images: [quay.io/prometheus/node-exporter:v1.9.0]\n',
      `docker pull ${host}/quay/prometheus/node-exporter:v1.9.0`,
    ],
    [
      'a Docker Hub rule and a Quay rule: the first Docker Hub image',
      'rules:\n  - { prefix: quay, upstream: quay }\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\nprewarm:\n  images: [quay.io/prometheus/node-exporter:v1.9.0, alpine:3.20]\n',
      `docker pull ${host}/docker-hub/library/alpine:3.20`,
    ],
    [
      'only a Quay rule, nothing listed: a placeholder under its prefix',
      'rules:\n  - { prefix: quay, upstream: quay }\n',
      `docker pull ${host}/quay/<repository>:<tag>`,
    ],
  ])('%s', async (_name, yaml, pull) => {
    const { code, out, err } = await snippet(yaml);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(pull);
  });
});

describe('cache-keeper ci-snippet --for iam-policy', () => {
  it("prints the CI role's identity policy: log in, pull, and first pulls, on every rule's prefix in the registry's account and region", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'keeper-snippet-')), 'keeper.config.yaml');
    writeFileSync(
      path,
      'rules:\n  - { prefix: quay, upstream: quay }\n  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub }\n',
    );
    const run = captureIo();
    expect(
      await runCli(['ci-snippet', '--for', 'iam-policy', '--registry', host, '--config', path], run.io),
    ).toBe(0);
    expect(JSON.parse(run.out.join('\n'))).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'LogInToRegistries', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        {
          Sid: 'PullThroughTheCache',
          Effect: 'Allow',
          Action: [
            'ecr:BatchGetImage',
            'ecr:GetDownloadUrlForLayer',
            'ecr:BatchCheckLayerAvailability',
            'ecr:BatchImportUpstreamImage',
            'ecr:CreateRepository',
          ],
          Resource: [
            'arn:aws:ecr:eu-west-1:123456789012:repository/docker-hub/*',
            'arn:aws:ecr:eu-west-1:123456789012:repository/quay/*',
          ],
        },
      ],
    });
  });

  it('names what --for takes when given something else', async () => {
    const run = captureIo();
    expect(await runCli(['ci-snippet', '--for', 'teamcity', '--registry', host], run.io)).toBe(2);
    expect(run.err.join('')).toBe(
      'cache-keeper ci-snippet: --for takes github-actions, gitlab, buildkite, circleci, bitbucket, jenkins, azure-pipelines, iam-policy, not "teamcity"',
    );
  });
});
