/**
 * The desired state, as a zod schema: types, defaults and the rules AWS enforces. Shape checks come
 * from the schema; rules that span fields (which upstream needs a secret, tags need a role, …) are
 * in `crossFieldProblems` so that every problem is reported in one pass.
 */
// A namespace import, so the bundler keeps only what is used: `import { z }` carries zod's messages
// in every language (400 KB the command would compile at every start).
import * as z from 'zod';
import { KEEPER_SID_PREFIX, keeperSids, repositoryStatements, withKeeperStatements } from './access.js';
import { apiModelProblem } from './api-model.js';
import { ImageRefError, parseImageRef } from './image-ref.js';
import { cacheRepositoryName, routeImage } from './images.js';
import { lifecyclePolicyProblems, lifecyclePolicyText } from './lifecycle.js';
import { CREDENTIAL_SECRET_PREFIX, secretNameOf } from './names.js';
import { pullHostsFor, UPSTREAM_KINDS, UPSTREAMS } from './upstreams.js';

/** ECR repository prefix syntax: lowercase path segments, 2–30 chars, or ROOT. */
export const ECR_PREFIX = /^(?:[a-z0-9]+(?:(?:[._-]|__)[a-z0-9]+)*\/)*[a-z0-9]+(?:(?:[._-]|__)[a-z0-9]+)*$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

const prefix = z
  .string()
  .refine((p) => p === 'ROOT' || (p.length >= 2 && p.length <= 30), {
    message: 'must be 2 to 30 characters, or ROOT',
  })
  .refine((p) => p === 'ROOT' || ECR_PREFIX.test(p), {
    message: 'must be lowercase letters and digits in parts joined by . _ __ - and separated by / (or ROOT)',
  });

const roleArn = z.string().regex(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');

/** A string the AWS API at `modelPath` must accept (data/aws-api-constraints.json). */
const apiString = (modelPath: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = apiModelProblem(modelPath, value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A secret name or ARN, as Secrets Manager takes a SecretId. */
const secretId = apiString('secretsmanager.GetSecretValue.SecretId');
const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** A raw ECR lifecycle policy: its shape (known keys only, the right types), then ECR's rules. */
const lifecycleRule = z.strictObject({
  rulePriority: z.number().int().min(1),
  description: z.string().optional(),
  selection: z.strictObject({
    tagStatus: z.enum(['tagged', 'untagged', 'any']),
    tagPatternList: z.array(z.string().min(1)).min(1).optional(),
    tagPrefixList: z.array(z.string().min(1)).min(1).optional(),
    countType: z.enum([
      'imageCountMoreThan',
      'sinceImagePushed',
      'sinceImagePulled',
      'sinceImageTransitioned',
    ]),
    countUnit: z.literal('days').optional(),
    countNumber: z.number().int().min(1),
    storageClass: z.enum(['standard', 'archive']).optional(),
  }),
  action: z.strictObject({
    type: z.enum(['expire', 'transition']),
    targetStorageClass: z.literal('archive').optional(),
  }),
});

const lifecyclePolicy = z.strictObject({ rules: z.array(lifecycleRule) }).superRefine((policy, ctx) => {
  for (const [path, message] of lifecyclePolicyProblems(policy))
    ctx.addIssue({ code: 'custom', path, message });
  // PutLifecyclePolicy (the back-fill) takes 100 to 30,720 characters of policy text.
  const problem = apiModelProblem('ecr.PutLifecyclePolicy.lifecyclePolicyText', lifecyclePolicyText(policy));
  if (problem) ctx.addIssue({ code: 'custom', message: `the policy text ${problem}` });
});

const lifecycle = z
  .strictObject({
    keepLast: positiveInt(10000)
      .optional()
      .describe(
        "Keep only the newest N tagged images per repository (a multi-platform image's platform manifests go with their index). Leave room above the tags prewarm.images lists of a repository: the tags CI pulls of it count too.",
      ),
    expireUntaggedAfterDays: positiveInt(3650)
      .optional()
      .describe(
        "Expire untagged images N days after push: a moved tag's previous digest. With keepLast, 7 unless set.",
      ),
    archiveUnpulledAfterDays: positiveInt(3650)
      .optional()
      .describe('Move images nobody pulled for N days to the archive storage class.'),
    policy: lifecyclePolicy.optional().describe('A raw ECR lifecycle policy, instead of the presets.'),
  })
  .superRefine((l, ctx) => {
    const presets = l.keepLast ?? l.expireUntaggedAfterDays ?? l.archiveUnpulledAfterDays;
    if (l.policy && presets !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'give either presets (keepLast, …) or a raw policy, not both',
      });
    }
    if (!l.policy && presets === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give at least one preset (keepLast, …) or a raw policy' });
    }
    // ECR acts on an image only through the first rule whose tag selection matches it, and the
    // archive rule (tagStatus any) must come last: it would never reach what keepLast selects.
    if (l.keepLast !== undefined && l.archiveUnpulledAfterDays !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['archiveUnpulledAfterDays'],
        message:
          'cannot go with keepLast: ECR acts on an image only through the first rule whose tags select it, and the archive rule must come after keepLast, so it would never reach a tagged image; choose one, or write a raw policy',
      });
    }
  });

const template = z.strictObject({
  description: z.string().max(256).optional(),
  lifecycle: lifecycle.optional(),
  imageTagMutability: z
    .enum(['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'])
    .default('MUTABLE')
    .describe('MUTABLE lets ECR refresh cached tags; IMMUTABLE stops refreshes.'),
  imageTagMutabilityExclusionFilters: z
    .array(apiString('ecr.CreateRepositoryCreationTemplate.imageTagMutabilityExclusionFilters.[].filter'))
    .min(1, 'needs at least 1 filter (the ECR API takes 1 to 5)')
    .max(5, 'takes at most 5 filters (the ECR API takes 1 to 5)')
    .optional(),
  encryption: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('AES256') }),
      z.strictObject({
        type: z.literal('KMS'),
        kmsKey: apiString('ecr.CreateRepositoryCreationTemplate.encryptionConfiguration.kmsKey')
          .min(1)
          .describe('A KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); ECR takes no alias here.')
          .optional(),
      }),
    ])
    .optional(),
  resourceTags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
  repositoryPolicy: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .optional()
    .describe('Repository policy document (object or JSON text), at most 10,240 characters.'),
  customRoleArn: roleArn.optional().describe('Needed by ECR when the template sets resource tags or KMS.'),
});

const rule = z.strictObject({
  prefix: prefix.describe('ECR repository prefix, e.g. docker-hub; ROOT caches everything.'),
  upstream: z
    .enum(UPSTREAM_KINDS, {
      // The ECR API's own name (github-container-registry…) is what a reader of its docs writes.
      error: (issue) => {
        const kind = UPSTREAM_KINDS.find((k) => k !== issue.input && UPSTREAMS[k].apiName === issue.input);
        return kind
          ? `${JSON.stringify(issue.input)} is the ECR API's name for it: write ${kind}`
          : undefined;
      },
    })
    .describe('Which upstream registry this rule caches.'),
  upstreamUrl: z.string().optional().describe('Only for azure and ecr; the others have a fixed URL.'),
  upstreamPrefix: apiString('ecr.CreatePullThroughCacheRule.upstreamRepositoryPrefix')
    .optional()
    .describe(
      'Upstream repository prefix; default ROOT (every repository). ECR maps the cache repository <prefix>/<rest> to the upstream <upstreamPrefix>/<rest>: with prefix official and upstreamPrefix library, node:22 is cached as official/node. An image goes through the first rule that caches its registry and, where set, its upstream prefix. AWS describes it for ECR-to-ECR rules; whether other upstreams take it is to verify (docs/sandbox.md).',
    ),
  credentialSecret: secretId
    .superRefine((value, ctx) => {
      // Given as an ARN, it is what ECR's credentialArn takes: checked as such.
      const problem = value.startsWith('arn:')
        ? apiModelProblem('ecr.CreatePullThroughCacheRule.credentialArn', value)
        : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe(
      'Secrets Manager secret (name or ARN) under ecr-pullthroughcache/ holding username and accessToken.',
    ),
  customRoleArn: roleArn
    .optional()
    .describe('For ECR-to-ECR rules: the role ECR assumes to read the upstream.'),
  template: template
    .optional()
    .describe('Repository creation template applied to repositories this rule creates.'),
});

const platform = z
  .string()
  .regex(
    /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/,
    'must look like os/architecture[/variant], e.g. linux/arm64',
  );

/** An image as written for `docker pull`; its syntax is checked here, its registry against the rules later. */
const imageReference = z.string().superRefine((text, ctx) => {
  try {
    parseImageRef(text);
  } catch (error) {
    if (!(error instanceof ImageRefError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
});

const prewarmImage = z.union([
  imageReference,
  z.strictObject({ image: imageReference, platforms: z.array(platform).min(1).optional() }),
]);

const prewarm = z.strictObject({
  platforms: z.array(platform).min(1).default(['linux/amd64']),
  concurrency: positiveInt(64)
    .default(16)
    .describe(
      'Images whose layers are transferred at once; twice as many are pulled by tag through the cache at once (a pull mostly waits on ECR fetching from upstream), and the free checks (upstream HEAD, DescribeImages) run for four times as many (see docs/PERFORMANCE.md).',
    ),
  reserveUpstreamPulls: z
    .number()
    .int()
    .min(0)
    .max(100000)
    .default(20)
    .describe(
      "Never spend the last N Docker Hub pulls of an account (left for CI's cache misses); rules whose pulls count against the same account (the same credential secret) share them.",
    ),
  maxUpstreamPullsPerRun: positiveInt(100000)
    .default(100)
    .describe('Upstream pulls one run may spend at most.'),
  mode: z.enum(['full', 'manifest-only']).default('full').describe('full also pulls config and layer blobs.'),
  safetyMarginSeconds: positiveInt(900)
    .default(30)
    .describe('No new image starts with less Lambda time left.'),
  images: z.array(prewarmImage).max(1000).default([]),
  fanOut: z
    .strictObject({
      minImages: z
        .number()
        .int()
        .min(0)
        .max(1000)
        .default(25)
        .describe(
          'Nights with more images to pull or fill than this fan out over one warmImage invocation each; smaller nights are warmed in the plan step, one invocation (see docs/architecture.md).',
        ),
      maxConcurrency: z
        .number()
        .int()
        .min(1)
        .max(40, 'at most 40: a Map state in Inline mode runs at most 40 iterations at once')
        .default(10)
        .describe(
          'warmImage invocations at once (the Map state’s MaxConcurrency; Step Functions runs at most 40).',
        ),
      imageTimeoutSeconds: positiveInt(900)
        .default(900)
        .describe('Each warmImage invocation’s deadline (its Lambda timeout and the Task’s TimeoutSeconds).'),
    })
    .default({ minImages: 25, maxConcurrency: 10, imageTimeoutSeconds: 900 })
    .describe(
      'The nightly pre-warm runs as a Step Functions state machine: a plan step, a Map of warmImage over the images to pull, a report step.',
    ),
  discover: z
    .strictObject({
      pulledWithinDays: positiveInt(365)
        .default(7)
        .describe('Tags pulled within this many days are refreshed.'),
      maxImages: positiveInt(1000)
        .default(200)
        .describe('At most this many discovered tags a night, most recently pulled first.'),
    })
    .optional()
    .describe(
      "Also refresh, each night, the cached tags (under any rule's prefix) something pulled within pulledWithinDays that are not on images (ECR's lastRecordedPullTime; the pre-warm role's own pulls do not count).",
    ),
});

const rotation = z.strictObject({
  mode: z.enum(['off', 'managed', 'staged']).default('off'),
  adminSecret: secretId.optional().describe('Secret with a Docker Hub password credential (managed mode).'),
  organization: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{1,254}$/,
      'must be a Docker Hub organization name (lowercase letters, digits, - and _)',
    )
    .optional()
    .describe(
      "The credential is an organization access token of this Docker Hub organization (Team or Business; the credential secret's username is the organization): managed rotation mints the organization's next token rather than a personal access token of the admin's own account, and the check and credential cleanup read and delete the organization's tokens. The admin secret then holds the username and password of one of its owners.",
    ),
  lifetimeDays: positiveInt(365).default(90),
  scopes: z
    .array(z.enum(['repo:admin', 'repo:write', 'repo:read', 'repo:public_read']))
    .min(1)
    .default(['repo:public_read']),
  deleteOldAfterDays: z
    .number()
    .int()
    .min(0)
    .max(365)
    .default(7)
    .describe('Delete a deactivated PAT after N days.'),
  scheduleDays: positiveInt(365).default(30).describe('Secrets Manager rotation schedule.'),
});

const credential = z.strictObject({
  warnDays: positiveInt(365).default(14),
  rotation: rotation.default({
    mode: 'off',
    lifetimeDays: 90,
    scopes: ['repo:public_read'],
    deleteOldAfterDays: 7,
    scheduleDays: 30,
  }),
});

const metrics = z.strictObject({
  namespace: apiString('cloudwatch.PutMetricData.Namespace')
    // CloudWatch documents it; the model's pattern ([^:].*) is not anchored, so it says so only loosely.
    .regex(/^(?!:)/, 'must not start with ":"') // (an empty one is the length's problem alone)
    .refine((ns) => !ns.startsWith('AWS/'), {
      message:
        'must not start with "AWS/": CloudWatch keeps those for AWS services and refuses every publish there',
    })
    .default('EcrCacheKeeper'),
  staleAfterDays: positiveInt(3650)
    .default(30)
    .describe('An image neither pulled nor pushed for N days counts as stale (CacheStaleImages).'),
  topRepositories: z
    .number()
    .int()
    .min(0)
    .max(500)
    .default(20)
    .describe('Per-repository metrics for the N largest.'),
  pricePerGbMonth: z.number().min(0).max(100).default(0.1),
  concurrency: positiveInt(64).default(8),
  exactLayerBytes: z.boolean().default(false).describe('Also compute bytes with shared layers counted once.'),
});

const reconcile = z.strictObject({
  prune: z.boolean().default(false).describe('Delete rules and templates that are not declared here.'),
  backfillLifecycle: z
    .boolean()
    .default(true)
    .describe('Apply template lifecycle policies to existing repositories.'),
  pullTimeExclusionRoleArn: roleArn
    .pipe(apiString('ecr.RegisterPullTimeUpdateExclusion.principalArn'))
    .optional()
    .describe("Role to register as pull-time update exclusion (the prewarm function's role)."),
  excludeRepositories: z
    .array(
      z
        .string()
        .min(1)
        .max(256)
        .regex(
          /^[a-z0-9._/*-]+$/,
          'must be a repository name, lowercase letters, digits, . _ - and /, with * for any characters',
        ),
    )
    .max(100)
    .default([])
    .describe(
      "Existing cache repositories reconcile leaves as they are: not read, no lifecycle or access back-fill (for example ones a guardrail in their own policy keeps for another team). Names, with * for any characters, / included (docker-hub/team-d/*). Repositories ECR creates still get their rule's template.",
    ),
});

const access = z
  .strictObject({
    accounts: z
      .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
      .max(100)
      .default([])
      .describe('AWS accounts whose roles may pull through the cache (their own IAM must allow it too).'),
    organizationId: z
      .string()
      .regex(
        /^o-[a-z0-9]{10,32}$/,
        'must be an AWS Organizations id (o- and 10 to 32 lowercase letters or digits)',
      )
      .optional()
      .describe('Every account of this AWS Organization may pull through the cache.'),
  })
  .describe(
    'CI in other AWS accounts that may pull through the cache: reconcile writes the statements into the registry policy, the creation templates and the existing cache repositories. Empty it (accounts: []) to take the access back before removing the key.',
  );

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    rules: z.array(rule).min(1).max(50, 'ECR allows at most 50 pull-through cache rules per registry'),
    access: access.optional(),
    reconcile: reconcile.default({ prune: false, backfillLifecycle: true, excludeRepositories: [] }),
    prewarm: prewarm.default({
      platforms: ['linux/amd64'],
      concurrency: 16,
      reserveUpstreamPulls: 20,
      maxUpstreamPullsPerRun: 100,
      mode: 'full',
      safetyMarginSeconds: 30,
      images: [],
      fanOut: { minImages: 25, maxConcurrency: 10, imageTimeoutSeconds: 900 },
    }),
    credential: credential.default({
      warnDays: 14,
      rotation: {
        mode: 'off',
        lifetimeDays: 90,
        scopes: ['repo:public_read'],
        deleteOldAfterDays: 7,
        scheduleDays: 30,
      },
    }),
    metrics: metrics.default({
      namespace: 'EcrCacheKeeper',
      staleAfterDays: 30,
      topRepositories: 20,
      pricePerGbMonth: 0.1,
      concurrency: 8,
      exactLayerBytes: false,
    }),
  })
  .superRefine((config, ctx) => {
    for (const [path, message] of crossFieldProblems(config)) ctx.addIssue({ code: 'custom', path, message });
  });

export type RawConfig = z.infer<typeof configSchema>;
type Problem = [Array<string | number>, string];

function crossFieldProblems(config: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  config.rules.forEach((r, i) => {
    const at = (...p: Array<string | number>) => ['rules', i, ...p];
    const info = UPSTREAMS[r.upstream];
    const previous = seen.get(r.prefix);
    if (previous !== undefined)
      problems.push([at('prefix'), `"${r.prefix}" is already used by rules[${previous}]`]);
    seen.set(r.prefix, i);

    if (r.upstreamUrl === undefined && !info.defaultUrl) {
      problems.push([at('upstreamUrl'), `is required for upstream ${r.upstream} (e.g. ${info.example})`]);
    } else if (r.upstreamUrl !== undefined && !info.urlPattern.test(r.upstreamUrl)) {
      problems.push([
        at('upstreamUrl'),
        `"${r.upstreamUrl}" is not a ${r.upstream} registry (e.g. ${info.example})`,
      ]);
    }
    if (r.upstreamPrefix !== undefined && r.prefix === 'ROOT')
      problems.push([at('upstreamPrefix'), 'can only be set when the ECR prefix is not ROOT']);

    if (info.auth === 'secret' && !r.credentialSecret) {
      problems.push([
        at('credentialSecret'),
        `${r.upstream} needs a Secrets Manager secret with username and accessToken`,
      ]);
    }
    if (info.auth !== 'secret' && r.credentialSecret) {
      problems.push([at('credentialSecret'), `${r.upstream} takes no credential secret`]);
    }
    if (r.credentialSecret && !secretNameOf(r.credentialSecret).startsWith(CREDENTIAL_SECRET_PREFIX)) {
      problems.push([
        at('credentialSecret'),
        `secret name must start with "${CREDENTIAL_SECRET_PREFIX}" (ECR reads only those)`,
      ]);
    }
    if (info.auth === 'role' && !r.customRoleArn) {
      problems.push([
        at('customRoleArn'),
        'an ECR-to-ECR rule needs customRoleArn (a role trusted by pullthroughcache.ecr.amazonaws.com)',
      ]);
    }
    if (info.auth !== 'role' && r.customRoleArn) {
      problems.push([at('customRoleArn'), `only ECR-to-ECR rules take customRoleArn, not ${r.upstream}`]);
    }

    const t = r.template;
    if (t) {
      const needsRole =
        (t.resourceTags && Object.keys(t.resourceTags).length > 0) || t.encryption?.type === 'KMS';
      if (needsRole && !t.customRoleArn) {
        problems.push([
          at('template', 'customRoleArn'),
          'ECR needs a custom role when the template sets resource tags or KMS encryption',
        ]);
      }
      const withExclusion = t.imageTagMutability.endsWith('_WITH_EXCLUSION');
      if (withExclusion && !t.imageTagMutabilityExclusionFilters?.length) {
        problems.push([
          at('template', 'imageTagMutabilityExclusionFilters'),
          `${t.imageTagMutability} needs at least one filter`,
        ]);
      }
      if (!withExclusion && t.imageTagMutabilityExclusionFilters) {
        problems.push([
          at('template', 'imageTagMutabilityExclusionFilters'),
          `only allowed with *_WITH_EXCLUSION mutability`,
        ]);
      }
      if (t.repositoryPolicy !== undefined) {
        const text =
          typeof t.repositoryPolicy === 'string' ? t.repositoryPolicy : JSON.stringify(t.repositoryPolicy);
        if (text.length > 10240)
          problems.push([at('template', 'repositoryPolicy'), 'is longer than 10,240 characters']);
        if (typeof t.repositoryPolicy === 'string') {
          try {
            JSON.parse(t.repositoryPolicy);
          } catch {
            problems.push([at('template', 'repositoryPolicy'), 'is not valid JSON']);
          }
        }
      }
    }
  });

  if (config.access) problems.push(...accessProblems(config));

  const routing = config.rules.map((r) => ({
    prefix: r.prefix,
    upstreamPrefix: r.upstreamPrefix ?? 'ROOT',
    pullHosts: pullHostsFor(r.upstream, r.upstreamUrl ?? UPSTREAMS[r.upstream].defaultUrl ?? ''),
  }));
  config.prewarm.images.forEach((entry, i) => {
    const text = typeof entry === 'string' ? entry : entry.image;
    const path = typeof entry === 'string' ? ['prewarm', 'images', i] : ['prewarm', 'images', i, 'image'];
    let ref: ReturnType<typeof parseImageRef>;
    try {
      ref = parseImageRef(text);
    } catch (error) {
      if (error instanceof ImageRefError) return; // reported at the field already
      throw error;
    }
    const route = routeImage(routing, ref);
    if ('problem' in route) {
      const declared = [...new Set(routing.flatMap((r) => r.pullHosts))].join(', ');
      problems.push([path, route.noRegistry ? `${route.problem} (declared: ${declared})` : route.problem]);
      return;
    }
    // The cache repository ECR creates for it (<prefix>/<repository>) must be a valid repository name.
    const repository = cacheRepositoryName({
      ...ref,
      rulePrefix: route.rule.prefix,
      upstreamPrefix: route.rule.upstreamPrefix,
    });
    const problem = apiModelProblem('ecr.CreateRepository.repositoryName', repository);
    if (problem) problems.push([path, `its cache repository ${repository.slice(0, 40)}… ${problem}`]);
  });

  problems.push(...keepLastProblems(config, routing));
  problems.push(...excludeProblems(config));

  const rot = config.credential.rotation;
  if (rot.mode === 'managed' && !rot.adminSecret) {
    problems.push([
      ['credential', 'rotation', 'adminSecret'],
      'managed rotation needs an admin secret (Docker Hub username and password)',
    ]);
  }
  if (rot.organization && !rot.adminSecret) {
    problems.push([
      ['credential', 'rotation', 'organization'],
      `needs credential.rotation.adminSecret: the username and password of one of ${rot.organization}'s owners, who alone may manage its access tokens`,
    ]);
  }
  if (rot.adminSecret && secretNameOf(rot.adminSecret).startsWith(CREDENTIAL_SECRET_PREFIX)) {
    problems.push([
      ['credential', 'rotation', 'adminSecret'],
      `must not be under "${CREDENTIAL_SECRET_PREFIX}": ECR's service role can read every secret there`,
    ]);
  }
  return problems;
}

/**
 * An exclusion that can match no repository under a rule's prefix is a typo: it would leave the
 * repository it meant to protect in the back-fill. A ROOT rule's repositories are never back-filled.
 */
function excludeProblems(config: RawConfig): Problem[] {
  const prefixes = config.rules.map((r) => r.prefix).filter((p) => p !== 'ROOT');
  const problems: Problem[] = [];
  config.reconcile.excludeRepositories.forEach((pattern, i) => {
    // The part before the first * must lead into <prefix>/…, or (with a *) be the start of it.
    const literal = pattern.split('*')[0]!;
    const under = (prefix: string) =>
      literal === pattern
        ? literal.startsWith(`${prefix}/`) && literal.length > prefix.length + 1
        : literal.startsWith(`${prefix}/`) || `${prefix}/`.startsWith(literal);
    if (prefixes.some(under)) return;
    problems.push([
      ['reconcile', 'excludeRepositories', i],
      `"${pattern}" matches no repository under a rule's prefix (${prefixes.map((p) => `${p}/`).join(', ') || 'none but ROOT, whose repositories reconcile never back-fills'})`,
    ]);
  });
  return problems;
}

/** What `access:` needs of the rules: a template each, and policies the keeper's statements fit in. */
function accessProblems(config: RawConfig): Problem[] {
  const problems: Problem[] = [];
  const statements = repositoryStatements(config.access!);
  config.rules.forEach((r, i) => {
    if (!r.template) {
      problems.push([
        ['rules', i, 'template'],
        'access: needs a template on every rule (template: {} will do): the repositories the cache creates get their pull statement from it',
      ]);
      return;
    }
    const policy = r.template.repositoryPolicy;
    if (policy === undefined) return;
    const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
    try {
      const claimed = keeperSids(text, 'repositoryPolicy');
      if (claimed.length) {
        problems.push([
          ['rules', i, 'template', 'repositoryPolicy'],
          `statement Sid "${claimed[0]}": Sids starting with ${KEEPER_SID_PREFIX} are the ones access: writes; name yours otherwise`,
        ]);
        return;
      }
      if ((withKeeperStatements(text, statements, 'repositoryPolicy') ?? '').length > 10240)
        problems.push([
          ['rules', i, 'template', 'repositoryPolicy'],
          "with access:'s statements it is longer than the 10,240 characters ECR takes",
        ]);
    } catch {
      // Not JSON: reported at the field already.
    }
  });
  return problems;
}

/**
 * keepLast against the pre-warm list: a repository with more tags listed than its template keeps
 * would lose one to the lifecycle policy every night, and the pre-warm pull it again from upstream.
 */
function keepLastProblems(
  config: RawConfig,
  routing: Array<{ prefix: string; upstreamPrefix: string; pullHosts: string[] }>,
): Problem[] {
  // Per rule (the one that caches each image, whose template applies), per cache repository.
  const tagsByRepository = new Map<string, { rule: number; repository: string; tags: Set<string> }>();
  for (const entry of config.prewarm.images) {
    let ref: ReturnType<typeof parseImageRef>;
    try {
      ref = parseImageRef(typeof entry === 'string' ? entry : entry.image);
    } catch {
      continue; // reported at the entry
    }
    const route = routeImage(routing, ref);
    if ('problem' in route) continue;
    const rule = routing.indexOf(route.rule);
    const repository = cacheRepositoryName({
      ...ref,
      rulePrefix: route.rule.prefix,
      upstreamPrefix: route.rule.upstreamPrefix,
    });
    const key = `${rule} ${repository}`;
    const seen = tagsByRepository.get(key) ?? { rule, repository, tags: new Set<string>() };
    seen.tags.add(ref.tag);
    tagsByRepository.set(key, seen);
  }
  const problems: Problem[] = [];
  for (const { rule, repository, tags } of tagsByRepository.values()) {
    const keepLast = config.rules[rule]?.template?.lifecycle?.keepLast;
    if (keepLast !== undefined && tags.size > keepLast)
      problems.push([
        ['rules', rule, 'template', 'lifecycle', 'keepLast'],
        `keeps ${keepLast} tagged images per repository, but prewarm.images lists ${tags.size} tags of ${repository}: every night the policy would expire one the pre-warm then pulls again from upstream`,
      ]);
  }
  return problems;
}
