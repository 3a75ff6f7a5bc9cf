/**
 * The one config loader: reads keeper.config.yaml, validates it against the schema, reports every
 * problem at once with its path, and resolves it into the typed desired state the rest of the
 * keeper works from.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Access, repositoryStatements, withKeeperStatements } from './access.js';
import { ConfigError, type ConfigProblem, formatPath, plainIssueMessage } from './errors.js';
import { type ImageRef, parseImageRef } from './image-ref.js';
import { routeImage } from './images.js';
import { type LifecyclePolicy, lifecyclePolicyFromPresets, lifecyclePolicyText } from './lifecycle.js';
import { secretNameOf } from './names.js';
import { configSchema, type RawConfig } from './schema.js';
import { pullHostsFor, UPSTREAMS, type UpstreamKind } from './upstreams.js';

export interface DesiredTemplate {
  prefix: string;
  description: string;
  lifecyclePolicy?: string;
  imageTagMutability: string;
  imageTagMutabilityExclusionFilters?: string[];
  encryption?: { type: 'AES256' } | { type: 'KMS'; kmsKey?: string };
  resourceTags: Record<string, string>;
  repositoryPolicy?: string;
  customRoleArn?: string;
}

export interface DesiredRule {
  prefix: string;
  upstream: UpstreamKind;
  /** `upstreamRegistry` enum value of the ECR API. */
  upstreamRegistry: string;
  upstreamUrl: string;
  upstreamPrefix: string;
  credentialSecret?: string;
  /** Secret name even when the config gives an ARN. */
  credentialSecretName?: string;
  customRoleArn?: string;
  template?: DesiredTemplate;
  /** Hosts people write in `docker pull` for this upstream (docker.io for Docker Hub). */
  pullHosts: string[];
}

export interface PrewarmImage extends ImageRef {
  /** ECR prefix of the rule that caches it. */
  rulePrefix: string;
  /** That rule's upstream prefix (ROOT for none): the part of the repository its cache name leaves out. */
  upstreamPrefix: string;
  platforms: string[];
}

export interface KeeperConfig {
  source: string;
  rules: DesiredRule[];
  reconcile: RawConfig['reconcile'];
  prewarm: Omit<RawConfig['prewarm'], 'images'> & { images: PrewarmImage[] };
  credential: RawConfig['credential'];
  metrics: RawConfig['metrics'];
  /**
   * Other accounts that may pull through the cache; undefined when the config has no `access:`
   * (the keeper then leaves every policy's access statements alone).
   */
  access?: Access;
}

function problemsFromZod(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return { path: formatPath(issue.path), message };
  });
}

export function parseConfig(text: string, source = 'keeper.config.yaml'): KeeperConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(file)',
        message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  let data: unknown;
  try {
    // A "billion laughs" document expands aliases exponentially: refused, with a clear problem.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(source, [
      { path: '(file)', message: `YAML: ${(error as Error).message} (at most 100 alias expansions)` },
    ]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(source, [
      { path: '(top level)', message: 'the config must be a YAML mapping with a "rules" key' },
    ]);
  }
  const result = configSchema.safeParse(data, { error: plainIssueMessage });
  if (!result.success) throw new ConfigError(source, problemsFromZod(result.error));
  return resolveConfig(result.data, source);
}

export function loadConfig(path: string): KeeperConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, [{ path: '(file)', message: `cannot read: ${(cause as Error).message}` }]);
  }
  return parseConfig(text, path);
}

function resolveConfig(raw: RawConfig, source: string): KeeperConfig {
  const rules = raw.rules.map((r): DesiredRule => {
    const info = UPSTREAMS[r.upstream];
    const upstreamUrl = r.upstreamUrl ?? info.defaultUrl!;
    const t = r.template;
    let lifecycle: LifecyclePolicy | undefined;
    if (t?.lifecycle)
      lifecycle = t.lifecycle.policy
        ? (t.lifecycle.policy as unknown as LifecyclePolicy)
        : lifecyclePolicyFromPresets(t.lifecycle);
    return {
      prefix: r.prefix,
      upstream: r.upstream,
      upstreamRegistry: info.apiName,
      upstreamUrl,
      upstreamPrefix: r.upstreamPrefix ?? 'ROOT',
      credentialSecret: r.credentialSecret,
      credentialSecretName: r.credentialSecret ? secretNameOf(r.credentialSecret) : undefined,
      customRoleArn: r.customRoleArn,
      pullHosts: pullHostsFor(r.upstream, upstreamUrl),
      template: t && {
        prefix: r.prefix,
        description: t.description ?? `Managed by ecr-cache-keeper for pull-through prefix ${r.prefix}`,
        lifecyclePolicy: lifecycle && lifecyclePolicyText(lifecycle),
        imageTagMutability: t.imageTagMutability,
        imageTagMutabilityExclusionFilters: t.imageTagMutabilityExclusionFilters,
        encryption: t.encryption,
        resourceTags: t.resourceTags ?? {},
        repositoryPolicy: templateRepositoryPolicy(t.repositoryPolicy, raw.access),
        customRoleArn: t.customRoleArn,
      },
    };
  });
  const images = raw.prewarm.images.map((entry): PrewarmImage => {
    const text = typeof entry === 'string' ? entry : entry.image;
    const ref = parseImageRef(text);
    // The schema has checked that a rule caches it.
    const { rule } = routeImage(rules, ref) as { rule: DesiredRule };
    return {
      ...ref,
      rulePrefix: rule.prefix,
      upstreamPrefix: rule.upstreamPrefix,
      platforms: (typeof entry === 'string' ? undefined : entry.platforms) ?? raw.prewarm.platforms,
    };
  });
  return {
    source,
    rules,
    reconcile: raw.reconcile,
    prewarm: { ...raw.prewarm, images },
    credential: raw.credential,
    metrics: raw.metrics,
    ...(raw.access ? { access: raw.access } : {}),
  };
}

/** The template's repository policy: as written, with `access:`'s pull statements when it is set. */
function templateRepositoryPolicy(
  written: string | Record<string, unknown> | undefined,
  access: Access | undefined,
): string | undefined {
  const text = written === undefined || typeof written === 'string' ? written : JSON.stringify(written);
  return access ? withKeeperStatements(text, repositoryStatements(access), 'repositoryPolicy') : text;
}
