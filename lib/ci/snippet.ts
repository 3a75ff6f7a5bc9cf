/**
 * The CI steps that log in to the cache's registry and pull through it, per CI system. The registry
 * host names the account and region (`<account>.dkr.ecr.<region>.amazonaws.com`).
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the snippets hold GitHub Actions expressions, ${{ … }} as workflows write them
import { FIRST_PULL_ACTIONS, PULL_ACTIONS, type RegistryPlace } from '../config/access.js';
import { KeeperError } from '../runtime/errors.js';

export const CI_SYSTEMS = [
  'github-actions',
  'gitlab',
  'buildkite',
  'circleci',
  'bitbucket',
  'jenkins',
  'azure-pipelines',
] as const;
export type CiSystem = (typeof CI_SYSTEMS)[number];

/** What the CI role needs to pull through the cache (a first pull also creates the repository). */
export const CI_PULL_ACTIONS = ['ecr:GetAuthorizationToken', ...PULL_ACTIONS, ...FIRST_PULL_ACTIONS];

/** Where `ci-snippet --for` can point: a CI system, or the identity policy its role needs. */
export const SNIPPET_TARGETS = [...CI_SYSTEMS, 'iam-policy'] as const;

/** The registry host's account and region (<account>.dkr.ecr.<region>.amazonaws.com). */
export function registryPlace(host: string): RegistryPlace {
  return { account: host.slice(0, 12), region: registryRegion(host) };
}

export function registryRegion(host: string): string {
  const match = host.match(/^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/);
  if (!match)
    throw new KeeperError(
      `"${host}" is not an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com): pass --registry with the account's`,
    );
  return match[1]!;
}

export function ciSnippet(
  system: CiSystem,
  options: {
    registryHost: string;
    example: string;
    /** The AWS CLI's image, through the cache where a rule caches Docker Hub (Bitbucket's login step). */
    awsCliImage?: string;
  },
): string {
  const host = options.registryHost;
  const region = registryRegion(host);
  const account = host.slice(0, 12);
  const login = `aws ecr get-login-password --region ${region} | docker login --username AWS --password-stdin ${host}`;
  const role = `arn:aws:iam::${account}:role/YOUR-CI-ROLE`;
  const iam = `# The CI role needs ${CI_PULL_ACTIONS.join(', ')} (the last two for an image's first pull).`;
  switch (system) {
    case 'github-actions': {
      const assumeRole = [
        '      - uses: aws-actions/configure-aws-credentials@v4',
        '        with:',
        `          role-to-assume: ${role}`,
        `          aws-region: ${region}`,
      ];
      // amazon-ecr-login names its outputs after the registry, dots and dashes as underscores.
      const output = host.replace(/[.-]/g, '_');
      const credentials = [
        '      credentials:',
        '        username: ${{ needs.login-to-cache.outputs.username }}',
        '        password: ${{ needs.login-to-cache.outputs.password }}',
      ];
      return [
        '# Log in to the ECR pull-through cache with the workflow’s OIDC role, then pull through it.',
        iam,
        '# A whole workflow (.github/workflows/cache.yml); put your own triggers under on:.',
        'on: [push, pull_request]',
        'permissions:',
        '  id-token: write',
        '  contents: read',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        ...assumeRole,
        '      - uses: aws-actions/amazon-ecr-login@v2',
        `      - run: docker pull ${options.example}`,
        '',
        '  # A job’s container: and services: are pulled before its steps run, so its own login comes',
        '  # too late: log in in a job before it and hand over the credentials. The password (valid',
        '  # 12 h) passes between the jobs unmasked (mask-password: false): GitHub shows it only with',
        '  # debug logging on. A self-hosted runner with the ECR credential helper needs none of this.',
        '  login-to-cache:',
        '    runs-on: ubuntu-latest',
        '    outputs:',
        `      username: \${{ steps.ecr.outputs.docker_username_${output} }}`,
        `      password: \${{ steps.ecr.outputs.docker_password_${output} }}`,
        '    steps:',
        ...assumeRole,
        '      - id: ecr',
        '        uses: aws-actions/amazon-ecr-login@v2',
        '        with:',
        "          mask-password: 'false'",
        '  test:',
        '    needs: login-to-cache',
        '    runs-on: ubuntu-latest',
        '    container:',
        `      image: ${options.example}`,
        ...credentials,
        '    services:',
        '      db:',
        `        image: ${options.example.replace(/[^/]+$/, 'postgres:17')}`,
        ...credentials.map((line) => `  ${line}`),
        '    steps:',
        '      - run: echo "in the cache\'s image, beside its service"',
        '',
      ].join('\n');
    }
    case 'gitlab':
      return [
        '# Log in to the ECR pull-through cache, then pull through it (the job needs the AWS CLI and',
        '# AWS credentials, e.g. from the runner’s instance role or GitLab’s OIDC id_tokens).',
        iam,
        'build:',
        '  before_script:',
        `    - ${login}`,
        '  script:',
        `    - docker pull ${options.example}`,
        '',
        '# A job’s own image: and services: are pulled by the runner, not by the job’s docker login:',
        '# put docker-credential-ecr-login (the Amazon ECR credential helper) on the runner’s PATH, with',
        '# AWS credentials that may pull as above, and set this CI/CD variable (or the runner’s',
        '# environment) so the runner uses it for the cache’s registry:',
        `#   DOCKER_AUTH_CONFIG: {"credHelpers": {"${host}": "ecr-login"}}`,
        '',
      ].join('\n');
    case 'circleci': {
      return [
        '# Pull through the ECR pull-through cache with a role your CircleCI organization’s OIDC provider',
        '# may assume. CircleCI pulls a docker executor’s images before the job’s steps, so each takes the',
        '# role as aws_auth:; a job that runs docker pull logs in first (the aws-cli orb assumes the role).',
        iam,
        'version: 2.1',
        'orbs:',
        '  aws-cli: circleci/aws-cli@5.1',
        'jobs:',
        '  test:',
        '    docker:',
        `      - image: ${options.example}`,
        '        aws_auth:',
        `          oidc_role_arn: ${role}`,
        '    steps:',
        '      - checkout',
        '      - run: npm test',
        '  build:',
        '    machine:',
        '      image: ubuntu-2204:current',
        '    steps:',
        '      - aws-cli/setup:',
        `          role_arn: ${role}`,
        `      - run: ${login}`,
        `      - run: docker pull ${options.example}`,
        '# CircleCI runs the jobs a workflow lists (without workflows, only a job named build).',
        'workflows:',
        '  pull-through-cache:',
        '    jobs:',
        '      - test',
        '      - build',
        '',
      ].join('\n');
    }
    case 'bitbucket': {
      const aws = ['  aws:', `    oidc-role: ${role}`];
      return [
        '# Pull through the ECR pull-through cache with a role your Bitbucket workspace’s OIDC provider may',
        '# assume. Bitbucket pulls a step’s image with the credentials written beside it, so each image',
        '# takes the role as aws: oidc-role (on steps with oidc: true); a step that runs docker pull logs',
        '# in first, with the step’s OIDC token.',
        iam,
        'image:',
        `  name: ${options.example}`,
        ...aws,
        'pipelines:',
        '  default:',
        '    - step:',
        '        name: test',
        '        oidc: true',
        '        script:',
        '          - npm test',
        '    - step:',
        '        name: pull',
        '        oidc: true',
        '        image:',
        `          name: ${options.awsCliImage ?? 'amazon/aws-cli:latest'}`,
        ...aws.map((line) => `        ${line}`),
        '        services:',
        '          - docker',
        '        script:',
        `          - export AWS_ROLE_ARN=${role} AWS_WEB_IDENTITY_TOKEN_FILE=$(mktemp)`,
        '          - echo "$BITBUCKET_STEP_OIDC_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"',
        `          - ${login}`,
        `          - docker pull ${options.example}`,
        '',
      ].join('\n');
    }
    case 'azure-pipelines':
      return [
        '# Log in to the ECR pull-through cache with the AWS Toolkit’s AWS Shell Script task (an AWS service',
        '# connection), then pull through it. The agent pulls a container job’s image before any step, with',
        '# its endpoint: connection, and an ECR password lasts 12 hours: pull in a step as here, or run',
        '# container jobs on a self-hosted agent whose Docker has the ECR credential helper.',
        iam,
        'pool:',
        '  vmImage: ubuntu-latest',
        'steps:',
        '- task: AWSShellScript@1',
        '  inputs:',
        '    awsCredentials: YOUR-AWS-SERVICE-CONNECTION',
        `    regionName: ${region}`,
        '    scriptType: inline',
        '    inlineScript: |',
        `      ${login}`,
        `      docker pull ${options.example}`,
        `- script: docker run --rm ${options.example} node --version`,
        '',
      ].join('\n');
    case 'jenkins': {
      const credentials = `'ecr:${region}:YOUR-AWS-CREDENTIALS-ID'`;
      return [
        "// Pull through the ECR pull-through cache with the Amazon ECR plugin's credentials (ecr:<region>:<the",
        "// id of AWS credentials in Jenkins>). Jenkins pulls a docker agent's image before its steps, with",
        '// the credentials its block names; a scripted pull, and a docker pull in sh, go inside',
        '// docker.withRegistry, which logs in for them.',
        iam.replace(/^#/, '//'),
        'pipeline {',
        '  agent none',
        '  stages {',
        "    stage('test') {",
        '      agent {',
        '        docker {',
        `          image '${options.example}'`,
        `          registryUrl 'https://${host}'`,
        `          registryCredentialsId ${credentials}`,
        '        }',
        '      }',
        '      steps {',
        "        sh 'npm test'",
        '      }',
        '    }',
        "    stage('pull') {",
        '      agent any',
        '      steps {',
        '        script {',
        `          docker.withRegistry('https://${host}', ${credentials}) {`,
        `            sh 'docker pull ${options.example}'`,
        `            docker.image('${options.example}').inside {`,
        "              sh 'node --version'",
        '            }',
        '          }',
        '        }',
        '      }',
        '    }',
        '  }',
        '}',
        '',
      ].join('\n');
    }
    case 'buildkite': {
      // The ecr plugin logs in in its pre-command hook: before the step's command, and before the
      // docker plugin pulls its image (a docker login in the command would run inside that image).
      const ecr = [
        '      - ecr#v2.11.0:',
        `          account-ids: "${account}"`,
        `          region: ${region}`,
      ];
      return [
        '# Log in to the ECR pull-through cache with the ecr plugin, then pull through it (the agent needs',
        '# the AWS CLI and AWS credentials, e.g. the agent instance’s role). The plugin logs in before the',
        '# step’s command and before the docker plugin pulls its image; a docker login in the command',
        '# would come too late for that. An agent with the ECR credential helper needs neither.',
        iam,
        'steps:',
        '  - label: build',
        `    command: docker pull ${options.example}`,
        '    plugins:',
        ...ecr,
        '  - label: test',
        '    command: npm test',
        '    plugins:',
        ...ecr,
        '      - docker#v5.13.0:',
        `          image: ${options.example}`,
        '',
      ].join('\n');
    }
  }
}
