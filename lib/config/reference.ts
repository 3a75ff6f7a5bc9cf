/**
 * docs/configuration.md, generated from the same schema that validates keeper.config.yaml, so the
 * reference cannot drift from what the loader accepts (`npm run schema` rewrites both).
 */
import { configJsonSchema } from './json-schema.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxLength?: number;
  pattern?: string;
  additionalProperties?: Schema | boolean;
};

function typeOf(s: Schema): string {
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return variants.map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object')
    return 'map of strings';
  return Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
}

function limits(s: Schema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`${s.minimum}–${s.maximum}`);
  else if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems} items`);
  if (s.maxLength !== undefined) parts.push(`at most ${s.maxLength} characters`);
  return parts.join(', ');
}

function rows(schema: Schema, path: string, out: string[][]): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (key === '$schema') continue;
    const here = path ? `${path}.${key}` : key;
    const objectChild =
      child.type === 'object' && child.properties
        ? child
        : child.type === 'array' && child.items?.properties
          ? child.items
          : undefined;
    out.push([
      `\`${here}${child.type === 'array' ? '[]' : ''}\``,
      objectChild ? (child.type === 'array' ? 'list of objects' : 'object') : typeOf(child),
      child.default !== undefined && typeof child.default !== 'object' ? `\`${String(child.default)}\`` : '',
      [child.description ?? '', limits(child)].filter(Boolean).join(' '),
    ]);
    if (objectChild) rows(objectChild, child.type === 'array' ? `${here}[]` : here, out);
    for (const variant of child.anyOf ?? []) if (variant.properties) rows(variant, here, out);
  }
}

export function configurationReference(): string {
  const table: string[][] = [];
  rows(configJsonSchema() as Schema, '', table);
  return [
    '# Configuration reference: keeper.config.yaml',
    '',
    '<!-- Generated from lib/config/schema.ts by `npm run schema`; edit the schema, not this file. -->',
    '',
    'One file, versioned with the code, declares the desired state. It is validated when it is loaded',
    '(`cache-keeper validate`) and again when the stack is packaged: unknown keys are errors, and every',
    'problem is reported at once with its path (`rules[1].prefix: must be 2 to 30 characters`).',
    'Editors check it with the JSON Schema in `schema/keeper.config.schema.json` (the first line of the',
    'shipped file points at it).',
    '',
    '| key | type | default | meaning and limits |',
    '| --- | --- | --- | --- |',
    ...table.map(
      (r) => `| ${r.map((c) => c.replace(/\|(?!\|)/g, '\\|').replace(/\\\\\|/g, '\\|')).join(' | ')} |`,
    ),
    '',
    '## Rules checked across fields',
    '',
    'These follow what ECR itself enforces (its API and the ECR user guide), so a mistake fails at load, not halfway',
    'through a reconcile:',
    '',
    '- `prefix`: lowercase parts joined by `.` `_` `__` `-`, separated by `/`, 2–30 characters, or `ROOT`;',
    '  unique across rules; at most 50 rules. Each rule adds its repositories and its credential secret',
    "  to the functions' IAM roles, which IAM holds to 10,240 characters a role: 50 rules sharing a",
    '  secret fit, and about 46 with a secret each (`serverless package` says when they do not).',
    '- `upstream` decides the credential: `docker-hub`, `ghcr`, `gitlab`, `azure`, `chainguard` need',
    '  `credentialSecret` (a name or ARN under `ecr-pullthroughcache/`); `ecr-public`, `quay`, `k8s` take',
    '  none; `ecr` needs `customRoleArn`. `azure` and `ecr` need `upstreamUrl`; the others have a fixed one.',
    '- `upstreamPrefix` only with a prefix other than `ROOT`.',
    '- `template.resourceTags` or `template.encryption.type: KMS` need `template.customRoleArn`.',
    '- `template.lifecycle`: presets (`keepLast`, `expireUntaggedAfterDays`, `archiveUnpulledAfterDays`)',
    '  or a raw `policy`, not both. A raw policy is checked like ECR does: `tagPatternList` and',
    '  `tagPrefixList` not together, at most 4 `*` per pattern, the `tagStatus: any` rule has the highest',
    '  priority, `sinceImagePulled` only transitions to archive, `sinceImageTransitioned` only expires',
    '  archived images after ≥ 90 days, at most 50 rules, at most 30,720 characters.',
    '- `prewarm.images`: written as for `docker pull` (`node`, `node:22-alpine`, `bitnami/redis:7`,',
    '  `public.ecr.aws/docker/library/alpine:3.20`); the registry must be cached by a rule; digests are',
    '  refused because ECR cannot pull an uncached image through the cache by digest.',
    '- `credential.rotation.mode: managed` needs `adminSecret` (Docker Hub username and password), which',
    "  must not be under `ecr-pullthroughcache/` (ECR's service role can read every secret there).",
    '',
    '## Example',
    '',
    '```yaml',
    'rules:',
    '  - prefix: docker-hub',
    '    upstream: docker-hub',
    '    credentialSecret: ecr-pullthroughcache/docker-hub',
    '    template:',
    '      lifecycle: { keepLast: 6, expireUntaggedAfterDays: 1 }',
    '  - prefix: ecr-public',
    '    upstream: ecr-public',
    'prewarm:',
    '  platforms: [linux/amd64, linux/arm64]',
    '  reserveUpstreamPulls: 20',
    '  images: [node:22-alpine, python:3.13-slim, public.ecr.aws/docker/library/alpine:3.20]',
    'credential:',
    '  warnDays: 14',
    '  rotation: { mode: managed, adminSecret: ecr-cache-keeper/dockerhub-admin, lifetimeDays: 90 }',
    '```',
    '',
  ].join('\n');
}
