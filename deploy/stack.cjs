/**
 * The CloudFormation resources of the stack, derived from keeper.config.yaml (loaded and validated
 * by the keeper's own config loader): one IAM role per function scoped to the configured prefixes
 * and secrets, the SNS alarm topic, the alarms, the dashboard, and the Secrets Manager rotation
 * schedule. serverless.yml includes `resources` from here. The alarms themselves are defined in
 * lib/metrics/alarms.ts, which the nightly cycle also evaluates against the sandbox's metrics.
 *
 * Resource "*" is granted only where IAM allows nothing narrower: the ECR actions that have no
 * resource type in the Service Authorization Reference (pull-through cache rules, repository
 * creation templates, pull-time update exclusions, GetAuthorizationToken) are matched only against
 * "*", and cloudwatch:PutMetricData is bound to the keeper's namespace by a condition. A test checks
 * every statement against that reference data (test/unit/deploy/iam-reference.test.ts).
 */
const path = require('node:path');
const tsx = require('tsx/cjs/api');

const { loadConfig } = tsx.require('../lib/config/load.ts', __filename);
const { writeResolvedConfig } = tsx.require('../lib/config/resolved.ts', __filename);
const { alarmDefinitions } = tsx.require('../lib/metrics/alarms.ts', __filename);

const FUNCTIONS = require('./functions.cjs');
const { stateMachineDefinition, STATE_MACHINE_FUNCTIONS } = require('./state-machine.cjs');
const logicalName = (fn) => fn[0].toUpperCase() + fn.slice(1);
const sub = (text) => ({ 'Fn::Sub': text });
const repositoryArn = (name) =>
  sub(`arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${name}`);
const secretArn = (name) =>
  sub(`arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name}-??????`);

/**
 * The validated config, or, when it does not validate, its problems with their paths printed once
 * and the process ended: serverless would otherwise print them once per variable that reads the
 * config, each time with two stack traces.
 */
function stackConfig() {
  try {
    return loadConfig(configFile());
  } catch (error) {
    if (error?.name !== 'ConfigError') throw error;
    refusePackaging('the keeper config is not valid', [error.message]);
  }
}

/**
 * The prewarm function's reserved concurrency from its parameter: a whole number ≥ 1, or none
 * (undefined). Reserving any needs an account quota above 100 (Lambda keeps 100 unreserved), which
 * new accounts (10) do not have. A bad value ends the packaging with what is wrong.
 */
function prewarmReservedConcurrency(value) {
  if (value === undefined || value === null) return 1; // serverless.yml's default
  const text = String(value).trim();
  if (text === 'none') return undefined;
  if (/^[1-9]\d*$/.test(text)) return Number(text);
  refusePackaging(
    `the parameter prewarmReservedConcurrency must be a whole number of at least 1, or none (not ${JSON.stringify(text)})`,
  );
}

/**
 * The permissions boundary every role the stack makes carries, from its parameter: the ARN of an
 * IAM managed policy (an organization that requires one on every role refuses CreateRole without
 * it), or none when empty. A bad value ends the packaging with what is wrong.
 */
function permissionsBoundary(value) {
  const text = value === undefined || value === null ? '' : String(value).trim();
  if (text === '') return undefined;
  if (/^arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/.test(text))
    return text;
  refusePackaging(
    `the parameter permissionsBoundary must be the ARN of an IAM managed policy (arn:aws:iam::<account>:policy/<name>, a path allowed), or empty for none (not ${JSON.stringify(text)})`,
  );
}

/** IAM's limit on a role name. */
const ROLE_NAME_LIMIT = 64;

/** Each role whose name (service, stage, function, region) IAM would refuse: what to tell the user. */
function roleNameProblems(resources, stage, region) {
  return Object.values(resources).flatMap((resource) => {
    const pattern = resource.Type === 'AWS::IAM::Role' && resource.Properties.RoleName?.['Fn::Sub'];
    if (typeof pattern !== 'string') return [];
    const name = pattern.replace(/\$\{AWS::Region\}/, region);
    return name.length > ROLE_NAME_LIMIT
      ? [
          `the role ${name} would be ${name.length} characters; IAM allows ${ROLE_NAME_LIMIT}: a stage name of at most ${ROLE_NAME_LIMIT - (name.length - stage.length)} characters here`,
        ]
      : [];
  });
}

/** IAM's limit on a role's inline policies, in characters without whitespace. */
const ROLE_POLICY_LIMIT = 10240;

/**
 * The characters a policy document takes once CloudFormation has resolved it, at the longest the
 * account can make it (partition aws-us-gov, region ap-southeast-3, any Ref an ARN of 120).
 */
function resolvedPolicyCharacters(document) {
  const longest = {
    'AWS::Partition': 'aws-us-gov',
    'AWS::Region': 'ap-southeast-3',
    'AWS::AccountId': '123456789012',
  };
  const text = JSON.stringify(document, (_key, value) => {
    if (value && typeof value === 'object' && typeof value['Fn::Sub'] === 'string')
      return value['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_m, name) => longest[name] ?? 'x'.repeat(120));
    if (value && typeof value === 'object' && typeof value.Ref === 'string') return 'x'.repeat(120);
    return value;
  });
  return text.replace(/\s/g, '').length;
}

/** Each function role that would need more policy than IAM allows a role: what to tell the user. */
function rolePolicyProblems(config) {
  return FUNCTIONS.flatMap((fn) => {
    const characters = resolvedPolicyCharacters(rolePolicyDocument(config, fn));
    return characters > ROLE_POLICY_LIMIT
      ? [
          `the ${fn} function's role needs about ${characters} characters of policy; IAM allows a role ${ROLE_POLICY_LIMIT.toLocaleString('en')} (each of the config's ${config.rules.length} rules adds its repositories and its credential secret): use fewer rules, or let rules share a credential secret`,
        ]
      : [];
  });
}

/**
 * Ends the packaging with what is wrong, once and without a stack trace (serverless would print a
 * thrown error once per variable that reads it, each time with two traces).
 */
function refusePackaging(headline, problems = []) {
  process.stderr.write(
    `serverless: ${headline}, nothing was packaged.\n${problems.map((p) => `${p}\n`).join('')}`,
  );
  process.exit(1);
}

function configFile() {
  return path.resolve(__dirname, '..', process.env.KEEPER_CONFIG || 'keeper.config.yaml');
}

/** The identity policy of a function's role: its own logs, its statements, its failure destination. */
function rolePolicyDocument(config, fn, service = 'ecr-cache-keeper', stage = 'dev') {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: sub(
          `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${stage}-${fn}:*`,
        ),
      },
      ...statementsFor(config)[fn],
      // Lambda destinations send failed asynchronous invocations to the alarm topic.
      { Sid: 'FailureDestination', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: 'AlarmTopic' } },
    ],
  };
}

/** A role the AWS service `principal` assumes, with one inline policy. */
function serviceRole(roleName, principal, policyName, document) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: sub(`${roleName}-\${AWS::Region}`),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: principal }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: policyName, PolicyDocument: document }],
    },
  };
}

const role = (config, fn, service, stage) =>
  serviceRole(
    `${service}-${stage}-${fn}`,
    'lambda.amazonaws.com',
    `${fn}-least-privilege`,
    rolePolicyDocument(config, fn, service, stage),
  );

const functionArn = (fn, service, stage) =>
  sub(`arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${service}-${stage}-${fn}`);

/** The state machine's role: it may invoke exactly its three functions, nothing else. */
function stateMachinePolicyDocument(service = 'ecr-cache-keeper', stage = 'dev') {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'InvokeItsFunctions',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: STATE_MACHINE_FUNCTIONS.map((fn) => functionArn(fn, service, stage)),
      },
    ],
  };
}

/**
 * The nightly pre-warm: the state machine (deploy/state-machine.cjs), its role, and the schedule
 * that starts it (with its own role, allowed to start exactly this state machine).
 */
function prewarmStateMachine(config, service, stage, schedule) {
  const arns = Object.fromEntries(
    STATE_MACHINE_FUNCTIONS.map((fn) => [fn, `\${${logicalName(fn)}LambdaFunction.Arn}`]),
  );
  return {
    PrewarmStateMachineRole: serviceRole(
      `${service}-${stage}-prewarm-states`,
      'states.amazonaws.com',
      'invoke-its-functions',
      stateMachinePolicyDocument(service, stage),
    ),
    PrewarmStateMachine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: `${service}-${stage}-prewarm`,
        RoleArn: { 'Fn::GetAtt': ['PrewarmStateMachineRole', 'Arn'] },
        DefinitionString: sub(JSON.stringify(stateMachineDefinition(config, arns), null, 2)),
      },
    },
    PrewarmScheduleRole: serviceRole(
      `${service}-${stage}-prewarm-schedule`,
      'events.amazonaws.com',
      'start-the-night',
      {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'StartThePrewarm',
            Effect: 'Allow',
            Action: 'states:StartExecution',
            Resource: { Ref: 'PrewarmStateMachine' },
          },
        ],
      },
    ),
    PrewarmSchedule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'Starts the nightly pre-warm',
        ScheduleExpression: schedule,
        State: 'ENABLED',
        Targets: [
          {
            Id: 'prewarm',
            Arn: { Ref: 'PrewarmStateMachine' },
            RoleArn: { 'Fn::GetAtt': ['PrewarmScheduleRole', 'Arn'] },
            Input: '{}',
          },
        ],
      },
    },
  };
}

/** An alarm on a count of failures: any in the period fires it; a period without a datum is none. */
const countAlarm = (AlarmDescription, topic, metric) => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties: {
    AlarmDescription,
    ...metric,
    EvaluationPeriods: 1,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [topic],
  },
});

/**
 * A night that failed as a whole (a failed Map, the execution's timeout) is no function's error,
 * and a schedule that could not start the night leaves nothing at all: an alarm on each.
 */
function nightAlarms(topic) {
  const execution = (Id, MetricName) => ({
    Id,
    ReturnData: false,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/States',
        MetricName,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'PrewarmStateMachine' } }],
      },
      Period: 3600,
      Stat: 'Sum',
    },
  });
  return {
    PrewarmExecutionFailedAlarm: countAlarm(
      'The nightly pre-warm failed or timed out as a whole (its execution history names the state; docs/operations.md, "Reading a failed execution").',
      topic,
      {
        Metrics: [
          execution('failed', 'ExecutionsFailed'),
          execution('timedOut', 'ExecutionsTimedOut'),
          // A series with no datum in the hour counts as none.
          {
            Id: 'nights',
            Expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
            Label: 'failed or timed-out nights',
            ReturnData: true,
          },
        ],
      },
    ),
    PrewarmScheduleFailedAlarm: countAlarm(
      'The schedule could not start the nightly pre-warm (EventBridge FailedInvocations): no night ran. Start it by hand (npx cache-keeper prewarm --fan-out); docs/operations.md, "Reading the alarms", says what to check.',
      topic,
      {
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: [{ Name: 'RuleName', Value: { Ref: 'PrewarmSchedule' } }],
        Statistic: 'Sum',
        Period: 3600,
      },
    ),
  };
}

/** An Allow statement, or none when there is no resource to grant it on. */
const allow = (Sid, Action, Resource) =>
  Resource.length ? [{ Sid, Effect: 'Allow', Action, Resource }] : [];

function statementsFor(config) {
  const prefixes = config.rules.map((r) => r.prefix);
  const cacheRepositories = prefixes.map((p) => repositoryArn(p === 'ROOT' ? '*' : `${p}/*`));
  const credentialSecrets = [
    ...new Set(config.rules.filter((r) => r.credentialSecretName).map((r) => r.credentialSecretName)),
  ].map(secretArn);
  const adminSecret = config.credential.rotation.adminSecret
    ? [
        secretArn(
          config.credential.rotation.adminSecret
            .replace(/^arn:.*:secret:/, '')
            .replace(/-[A-Za-z0-9]{6}$/, ''),
        ),
      ]
    : [];
  const passRoles = [
    ...new Set(config.rules.flatMap((r) => [r.customRoleArn, r.template?.customRoleArn]).filter(Boolean)),
  ];
  const repositoryPolicies = config.access || config.rules.some((r) => r.template?.repositoryPolicy);
  // Listing repositories is requested against every repository of the account's registry.
  const registry = repositoryArn('*');
  // ECR's service-linked roles (pull through cache; repository creation templates), created with the
  // account's first rule or template.
  const ecrServiceLinkedRoles = {
    Sid: 'EcrServiceLinkedRoles',
    Effect: 'Allow',
    Action: 'iam:CreateServiceLinkedRole',
    Resource: sub(
      `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/aws-service-role/*ecr.amazonaws.com/*`,
    ),
    Condition: {
      StringEquals: { 'iam:AWSServiceName': ['pullthroughcache.ecr.amazonaws.com', 'ecr.amazonaws.com'] },
    },
  };
  const putMetrics = {
    Sid: 'PublishMetrics',
    Effect: 'Allow',
    Action: 'cloudwatch:PutMetricData',
    Resource: '*',
    Condition: { StringEquals: { 'cloudwatch:namespace': config.metrics.namespace } },
  };
  // These actions have no resource type: IAM matches them only against "*".
  const validate = {
    Sid: 'ValidateRules',
    Effect: 'Allow',
    Action: ['ecr:ValidatePullThroughCacheRule'],
    Resource: '*',
  };
  // The pre-warm's pieces, shared by the single-invocation function and the state machine's steps.
  const registryLogin = [
    { Sid: 'RegistryLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
  ];
  // prewarm.discover walks the cache's repositories (their images: DescribeImages below).
  const listRepositories = config.prewarm.discover
    ? [{ Sid: 'ListRepositories', Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: registry }]
    : [];
  const pullThroughCache = {
    Sid: 'PullThroughCache',
    Effect: 'Allow',
    Action: [
      'ecr:BatchGetImage',
      'ecr:GetDownloadUrlForLayer',
      'ecr:BatchImportUpstreamImage',
      'ecr:CreateRepository',
      'ecr:DescribeImages',
      'ecr:BatchCheckLayerAvailability',
    ],
    Resource: cacheRepositories,
  };
  const upstreamCredential = allow('UpstreamCredential', 'secretsmanager:GetSecretValue', credentialSecrets);
  // The one-night-at-a-time lease and the night's marks are tags on the Docker Hub rule's
  // credential secret, else the first rule's that has one (prewarmStateSecret in
  // lib/prewarm/run.ts; lease.ts, layer-audit.ts, order.ts): that secret only, not every rule's.
  const stateRule =
    config.rules.find((r) => r.upstream === 'docker-hub' && r.credentialSecretName) ??
    config.rules.find((r) => r.credentialSecretName);
  const prewarmLease = allow(
    'PrewarmLease',
    ['secretsmanager:DescribeSecret', 'secretsmanager:TagResource', 'secretsmanager:UntagResource'],
    stateRule ? [secretArn(stateRule.credentialSecretName)] : [],
  );
  return {
    reconcile: [
      {
        // Registry-level: no resource type, so only "*" matches (see the file's comment).
        Sid: 'RegistryLevel',
        Effect: 'Allow',
        Action: [
          'ecr:DescribePullThroughCacheRules',
          'ecr:CreatePullThroughCacheRule',
          'ecr:UpdatePullThroughCacheRule',
          'ecr:DeletePullThroughCacheRule',
          'ecr:ValidatePullThroughCacheRule',
          'ecr:DescribeRepositoryCreationTemplates',
          'ecr:CreateRepositoryCreationTemplate',
          'ecr:UpdateRepositoryCreationTemplate',
          'ecr:DeleteRepositoryCreationTemplate',
          'ecr:ListPullTimeUpdateExclusions',
          'ecr:RegisterPullTimeUpdateExclusion',
          // The registry policy: read always, to show statements an earlier `access:` left there;
          // written with `access:` (its first-pull statements).
          'ecr:GetRegistryPolicy',
          ...(config.access
            ? ['ecr:DescribeRegistry', 'ecr:PutRegistryPolicy', 'ecr:DeleteRegistryPolicy']
            : []),
        ],
        Resource: '*',
      },
      { Sid: 'ListRepositories', Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: registry },
      {
        // Lifecycle back-fill; and a creation template needs its creator to be allowed to create
        // the repositories it describes and put their lifecycle policy, and (inferred the same way)
        // set their repository policy when it has one; `access:` back-fills the existing ones. One
        // statement, so the prefixes are listed once: the role's policy has 10,240 characters.
        Sid: 'CacheRepositories',
        Effect: 'Allow',
        Action: [
          'ecr:GetLifecyclePolicy',
          'ecr:PutLifecyclePolicy',
          'ecr:CreateRepository',
          ...(repositoryPolicies ? ['ecr:SetRepositoryPolicy'] : []),
          ...(config.access ? ['ecr:GetRepositoryPolicy', 'ecr:DeleteRepositoryPolicy'] : []),
        ],
        Resource: cacheRepositories,
      },
      ecrServiceLinkedRoles,
      ...allow(
        'CheckCredentialSecrets',
        ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        credentialSecrets,
      ),
      ...allow('PassCustomRoles', 'iam:PassRole', passRoles),
    ],
    prewarm: [
      ...registryLogin,
      ...listRepositories,
      pullThroughCache,
      ...upstreamCredential,
      ...prewarmLease,
      putMetrics,
    ],
    // The state machine's steps (deploy/state-machine.cjs): the plan may warm a small night itself.
    prewarmPlan: [
      ...registryLogin,
      ...listRepositories,
      pullThroughCache,
      ...upstreamCredential,
      ...prewarmLease,
    ],
    warmImage: [...registryLogin, pullThroughCache, ...upstreamCredential],
    prewarmReport: [...prewarmLease, putMetrics],
    checkCredential: [
      ...allow(
        'CredentialSecrets',
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:TagResource',
          'secretsmanager:UntagResource',
        ],
        credentialSecrets,
      ),
      ...allow('AdminCredential', 'secretsmanager:GetSecretValue', adminSecret),
      validate,
      putMetrics,
    ],
    rotateCredential: [
      ...allow(
        'RotatedSecrets',
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
          'secretsmanager:TagResource',
          'secretsmanager:UntagResource',
        ],
        credentialSecrets,
      ),
      ...allow('AdminCredential', 'secretsmanager:GetSecretValue', adminSecret),
      validate,
    ],
    cacheMetrics: [
      { Sid: 'ListRepositories', Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: registry },
      {
        Sid: 'ReadImages',
        Effect: 'Allow',
        Action: ['ecr:DescribeImages', 'ecr:BatchGetImage'],
        Resource: cacheRepositories,
      },
      putMetrics,
    ],
    pullEvents: [putMetrics],
  };
}

function alarmResource(alarm, topic) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: alarm.description,
      Namespace: alarm.namespace,
      MetricName: alarm.metric,
      Dimensions: Object.entries(alarm.dimensions).map(([Name, Value]) => ({ Name, Value })),
      Statistic: alarm.statistic,
      Period: alarm.periodSeconds,
      EvaluationPeriods: alarm.evaluationPeriods ?? 1,
      DatapointsToAlarm: alarm.evaluationPeriods ?? 1,
      Threshold: alarm.threshold,
      ComparisonOperator: alarm.comparison,
      TreatMissingData: alarm.missingData,
      AlarmActions: [topic],
      OKActions: [topic],
    },
  };
}

function dashboard(config, service, stage) {
  const ns = config.metrics.namespace;
  const secrets = [
    ...new Set(config.rules.filter((r) => r.credentialSecretName).map((r) => r.credentialSecretName)),
  ];
  const widget = (title, metrics, x, y, extra = {}) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: {
      title,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
      region: '${AWS::Region}',
      stat: 'Maximum',
      period: 3600,
      view: 'timeSeries',
      metrics,
      ...extra,
    },
  });
  const body = {
    widgets: [
      widget(
        'Cache size (bytes)',
        [
          [ns, 'CacheBytes'],
          [ns, 'CacheStaleBytes'],
        ],
        0,
        0,
      ),
      widget(
        'Images in the cache',
        [
          [ns, 'CacheImages'],
          [ns, 'CacheTaggedImages'],
          [ns, 'CacheStaleImages'],
        ],
        12,
        0,
      ),
      widget(
        'Pre-warm outcomes',
        [
          'PrewarmImagesWarmed',
          'PrewarmImagesSkipped',
          'PrewarmImagesStalePending',
          'PrewarmImagesDeferred',
          'PrewarmImagesUnverified',
          'PrewarmImagesArchived',
          'PrewarmImagesFailed',
          'PrewarmImagesChecked',
        ].map((m) => [ns, m]),
        0,
        6,
        { period: 86400 },
      ),
      widget(
        'Docker Hub pulls remaining / spent',
        [
          [ns, 'DockerHubPullsRemaining'],
          [ns, 'UpstreamPullsSpent'],
        ],
        12,
        6,
        { period: 86400 },
      ),
      widget(
        'Token days left',
        secrets.map((s) => [ns, 'CredentialDaysToExpiry', 'SecretName', s]),
        0,
        12,
        { stat: 'Minimum', period: 86400 },
      ),
      widget('Failed upstream pulls', [[ns, 'UpstreamPullFailures']], 12, 12, { stat: 'Sum' }),
      widget(
        'Nightly pre-warm executions',
        ['ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map((m) => [
          'AWS/States',
          m,
          'StateMachineArn',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
          '${PrewarmStateMachine}',
        ]),
        0,
        18,
        { stat: 'Sum', period: 86400 },
      ),
      widget(
        'Token checks with a verdict (1) or without (0)',
        secrets.map((s) => [ns, 'CredentialVerified', 'SecretName', s]),
        12,
        18,
        { stat: 'Minimum', period: 86400 },
      ),
    ],
  };
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: { DashboardName: `${service}-${stage}`, DashboardBody: sub(JSON.stringify(body)) },
  };
}

/**
 * One output per rule: the registry URI prefix CI pulls through, e.g.
 * 123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub (then /library/node:22).
 */
function registryUriOutputs(config) {
  const outputs = {};
  for (const rule of config.rules) {
    const pascal =
      rule.prefix === 'ROOT'
        ? 'Root'
        : rule.prefix
            .split(/[^a-z0-9]+/)
            .map((w) => w && w[0].toUpperCase() + w.slice(1))
            .join('');
    let name = `CacheRegistryUri${pascal}`;
    for (let n = 2; outputs[name]; n++) name = `CacheRegistryUri${pascal}${n}`;
    const path = rule.prefix === 'ROOT' ? '' : `/${rule.prefix}`;
    outputs[name] = {
      Description: `Pull-through cache for ${rule.upstreamUrl} (rule ${rule.prefix})`,
      Value: { 'Fn::Sub': `\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}${path}` },
    };
  }
  return outputs;
}

/** `cron(M H * * ? *)`: minutes after midnight UTC; undefined for any other schedule. */
function dailyMinute(expression) {
  const m = /^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$/.exec(String(expression).trim());
  return m ? Number(m[2]) * 60 + Number(m[1]) : undefined;
}

const hhmm = (minute) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/**
 * What the stage's schedules would cost, said at package time (daily cron schedules only): a
 * pre-warm before reconcile warms through rules not made yet; in the rotation stage, either one
 * inside the token's rotation window (00:00-01:00 UTC) may meet a rotation halfway.
 */
function scheduleWarnings({ reconcile, prewarm, rotates }) {
  const warnings = [];
  const at = { reconcile: dailyMinute(reconcile), prewarm: dailyMinute(prewarm) };
  if (at.reconcile !== undefined && at.prewarm !== undefined && at.prewarm < at.reconcile)
    warnings.push(
      `the pre-warm (${hhmm(at.prewarm)} UTC) starts before reconcile (${hhmm(at.reconcile)} UTC): a rule reconcile has not made yet fails that night's images; schedule reconcile first`,
    );
  if (rotates)
    for (const [name, minute] of [
      ['the pre-warm', at.prewarm],
      ['reconcile', at.reconcile],
    ])
      if (minute !== undefined && minute < 60)
        warnings.push(
          `${name} (${hhmm(minute)} UTC) starts inside the token's rotation window (00:00-01:00 UTC): a rotation may retire the token it logs in with; schedule it after 01:00`,
        );
  return warnings;
}

async function resources({ options = {}, resolveVariable } = {}) {
  const config = stackConfig();
  const stage = options.stage || 'dev';
  // A secret has exactly one rotation schedule: only the stage named by the rotationStage
  // parameter (prod by default) attaches one, so two stages in one account never fight over it.
  const rotationStage = resolveVariable ? await resolveVariable('param:rotationStage') : 'prod';
  const alarmEmail = resolveVariable ? await resolveVariable('param:alarmEmail') : '';
  const prewarmSchedule = resolveVariable
    ? await resolveVariable('param:prewarmSchedule')
    : 'cron(0 3 * * ? *)';
  const reconcileSchedule = resolveVariable
    ? await resolveVariable('param:reconcileSchedule')
    : 'cron(0 2 * * ? *)';
  const rotates = config.credential.rotation.mode === 'managed' && stage === rotationStage;
  for (const warning of scheduleWarnings({ reconcile: reconcileSchedule, prewarm: prewarmSchedule, rotates }))
    process.stderr.write(`serverless: warning: ${warning}\n`);
  const reserved = prewarmReservedConcurrency(
    resolveVariable ? await resolveVariable('param:prewarmReservedConcurrency') : 1,
  );
  const boundary = permissionsBoundary(
    resolveVariable ? await resolveVariable('param:permissionsBoundary') : undefined,
  );
  const service = 'ecr-cache-keeper';
  const topic = { Ref: 'AlarmTopic' };
  const out = {
    AlarmTopic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: `${service}-${stage}-alarms` } },
  };
  // Refused here rather than by CloudFormation halfway through a deploy.
  const region =
    options.region || (resolveVariable ? await resolveVariable('self:provider.region') : undefined);
  const tooBig = rolePolicyProblems(config);
  if (tooBig.length)
    refusePackaging(
      "the stack's IAM roles would be refused",
      tooBig.map((p) => `  ${p}`),
    );
  for (const fn of FUNCTIONS) out[`${logicalName(fn)}Role`] = role(config, fn, service, stage);
  for (const alarm of alarmDefinitions(config)) out[`${alarm.id}Alarm`] = alarmResource(alarm, topic);
  for (const fn of FUNCTIONS) {
    out[`${logicalName(fn)}ErrorsAlarm`] = countAlarm(`The ${fn} function failed (see its logs).`, topic, {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${logicalName(fn)}LambdaFunction` } }],
      Statistic: 'Sum',
      Period: 3600,
    });
  }
  out.Dashboard = dashboard(config, service, stage);
  Object.assign(out, prewarmStateMachine(config, service, stage, prewarmSchedule));
  Object.assign(out, nightAlarms(topic));
  // E-mail subscription to the alarm topic, only when the alarmEmail parameter is set.
  if (alarmEmail)
    out.AlarmEmailSubscription = {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: topic, Protocol: 'email', Endpoint: alarmEmail },
    };

  out.RotateCredentialInvokePermission = {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      FunctionName: { 'Fn::GetAtt': ['RotateCredentialLambdaFunction', 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    },
  };
  if (rotates) {
    const secrets = [
      ...new Set(
        config.rules
          .filter((r) => r.upstream === 'docker-hub' && r.credentialSecretName)
          .map((r) => r.credentialSecretName),
      ),
    ];
    secrets.forEach((secret, i) => {
      out[`CredentialRotationSchedule${i}`] = {
        Type: 'AWS::SecretsManager::RotationSchedule',
        DependsOn: ['RotateCredentialInvokePermission'],
        Properties: {
          SecretId: secret,
          RotationLambdaARN: { 'Fn::GetAtt': ['RotateCredentialLambdaFunction', 'Arn'] },
          // A rate() window opens at midnight UTC; without a Duration it stays open all day, and a
          // rotation could retire the token a running pre-warm logs in with. One hour: done before
          // the nightly reconcile and pre-warm begin.
          RotationRules: {
            ScheduleExpression: `rate(${config.credential.rotation.scheduleDays} days)`,
            Duration: '1h',
          },
          // Not at deploy time: the rule that validates the new token may not exist until reconcile runs.
          RotateImmediatelyOnUpdate: false,
        },
      };
    });
  }
  if (boundary)
    for (const resource of Object.values(out))
      if (resource.Type === 'AWS::IAM::Role') resource.Properties.PermissionsBoundary = boundary;
  const longNames = region ? roleNameProblems(out, stage, region) : [];
  if (longNames.length)
    refusePackaging(
      "the stack's IAM role names would be refused",
      longNames.map((p) => `  ${p}`),
    );
  return {
    Resources: out,
    // serverless compiles the function; its reserved concurrency is set here, or left out.
    ...(reserved
      ? { extensions: { PrewarmLambdaFunction: { Properties: { ReservedConcurrentExecutions: reserved } } } }
      : {}),
    Outputs: {
      AlarmTopicArn: { Value: topic },
      DashboardName: { Value: `${service}-${stage}` },
      PrewarmStateMachineArn: { Value: { Ref: 'PrewarmStateMachine' } },
      ...registryUriOutputs(config),
    },
  };
}

/**
 * Validates keeper.config.yaml and writes the resolved JSON the functions read (packaged beside
 * each bundle). Returns its file name for KEEPER_RESOLVED_CONFIG.
 */
function resolvedConfig() {
  writeResolvedConfig(stackConfig(), path.resolve(__dirname, '..', RESOLVED_FILE));
  return RESOLVED_FILE;
}

const RESOLVED_FILE = 'keeper.resolved.json';

/** warmImage's Lambda timeout: the config's prewarm.fanOut.imageTimeoutSeconds (serverless.yml). */
const warmImageTimeout = () => stackConfig().prewarm.fanOut.imageTimeoutSeconds;

module.exports = {
  resources,
  rolePolicyProblems,
  scheduleWarnings,
  resolvedConfig,
  statementsFor,
  rolePolicyDocument,
  stateMachinePolicyDocument,
  warmImageTimeout,
  FUNCTIONS,
};
