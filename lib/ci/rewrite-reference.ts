/**
 * One image reference rewritten to the cache's: what becomes of it (rewriteReference) and the edit
 * in the text (rewriteAt). The readers of each kind of file (rewrite-dockerfile.ts, rewrite-yaml.ts,
 * rewrite-jenkinsfile.ts)
 * find the references; this decides and writes them.
 */
import { DIGEST_CAUTION, parseImageRef } from '../config/image-ref.js';
import { cacheRepositoryName, type RoutingRule, routeImage } from '../config/images.js';

export interface RewriteTarget {
  /** The cache's registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com. */
  registryHost: string;
  /** The config's rules, in its order: the first that caches a reference takes it. */
  rules: readonly RoutingRule[];
}

export interface RewriteNote {
  line: number;
  reference: string;
  note: string;
  /** True when the reference was left as written; false for a caution about one that was rewritten. */
  left: boolean;
}

export interface RewriteResult {
  kind: 'dockerfile' | 'yaml' | 'json' | 'jenkinsfile';
  /** False when the file does not parse: it is left whole, with a note saying where it stops. */
  readable: boolean;
  output: string;
  changes: Array<{ line: number; from: string; to: string }>;
  notes: RewriteNote[];
  /**
   * Every reference the file pulls through a rule, or from the cache's registry already, as written
   * (a Helm image's registry, repository and tag put together): what it pulls, for `suggest`.
   */
  pulls: Array<{ line: number; reference: string }>;
}

export type FileKind = RewriteResult['kind'];

/** `unchanged`: `scratch`, or a reference that names the cache's registry already. */
type Decision = { to: string } | { note: string } | { unchanged: 'scratch' | 'cache' };

/** What becomes of one reference as written. */
export function rewriteReference(reference: string, target: RewriteTarget): Decision {
  if (reference.toLowerCase() === 'scratch') return { unchanged: 'scratch' };
  // `${IMAGE:-node:22}` (compose, Dockerfiles): the default is a whole reference, rewritten where it
  // stands; a value set for the variable still wins.
  const withDefault = reference.match(/^(\$\{\w+:?-)([^${}]+)\}$/);
  if (withDefault) {
    const inner = rewriteReference(withDefault[2]!, target);
    return 'to' in inner ? { to: `${withDefault[1]}${inner.to}}` } : inner;
  }
  // A variable in the tag or digest (`node:${NODE_VERSION}-alpine`) leaves the repository, and so
  // the rule, known: the name is rewritten and the rest kept as written. One in the name is not.
  const dollar = reference.indexOf('$');
  const literal = dollar >= 0 ? reference.slice(0, dollar) : reference;
  const at = literal.indexOf('@');
  const lastSlash = literal.lastIndexOf('/');
  const colon = literal.indexOf(':', lastSlash + 1);
  const separators = [colon, at].filter((i) => i >= 0);
  const nameEnd = separators.length ? Math.min(...separators) : dollar >= 0 ? -1 : reference.length;
  if (nameEnd < 0)
    return { note: 'built from a variable (ARG or environment): rewrite the value where it is set' };
  const name = reference.slice(0, nameEnd);
  const tagAndDigest = reference.slice(nameEnd);
  let parsed: ReturnType<typeof parseImageRef>;
  try {
    parsed = parseImageRef(name);
  } catch {
    return { note: 'not an image reference this tool can read' };
  }
  if (parsed.registry === target.registryHost.toLowerCase()) return { unchanged: 'cache' };
  const route = routeImage(target.rules, parsed);
  if ('problem' in route)
    return {
      note: route.noRegistry ? `${parsed.registry} has no pull-through cache rule here` : route.problem,
    };
  const repository = cacheRepositoryName({
    rulePrefix: route.rule.prefix,
    upstreamPrefix: route.rule.upstreamPrefix,
    repository: parsed.repository,
  });
  return { to: `${target.registryHost}/${repository}${tagAndDigest}` };
}

/** Replaces `from`, found at `start` on line `index` of `lines`, with `to`, and records the change. */
export function replaceAt(
  result: RewriteResult,
  lines: string[],
  index: number,
  start: number,
  from: string,
  to: string,
): void {
  const line = lines[index]!;
  lines[index] = line.slice(0, start) + to + line.slice(start + from.length);
  result.changes.push({ line: index + 1, from, to });
}

/** Applies a decision to the reference found at `start` on line `index` of `lines`. */
export function rewriteAt(
  result: RewriteResult,
  lines: string[],
  index: number,
  start: number,
  reference: string,
  target: RewriteTarget,
): void {
  const decision = rewriteReference(reference, target);
  if ('note' in decision) {
    result.notes.push({ line: index + 1, reference, note: decision.note, left: true });
    return;
  }
  if ('unchanged' in decision) {
    if (decision.unchanged === 'cache') result.pulls.push({ line: index + 1, reference });
    return;
  }
  result.pulls.push({ line: index + 1, reference });
  replaceAt(result, lines, index, start, reference, decision.to);
  cautionIfPinned(result, index + 1, reference);
}

/** A reference pinned by digest, rewritten: a caution (a first pull by digest through the cache fails). */
export function cautionIfPinned(result: RewriteResult, line: number, reference: string): void {
  if (reference.includes('@')) result.notes.push({ line, reference, note: DIGEST_CAUTION, left: false });
}

/**
 * A reference CI pulls before it can log in, so left as written: still what it pulls (for
 * `suggest`), with the form to write instead (`instead`, given its cache reference). A reference
 * the rules do not take gets their note; one on the cache already, none.
 */
export function leaveWithForm(
  result: RewriteResult,
  line: number,
  reference: string,
  target: RewriteTarget,
  instead: (to: string) => string,
): void {
  const decision = rewriteReference(reference, target);
  if ('note' in decision) {
    result.notes.push({ line, reference, note: decision.note, left: true });
    return;
  }
  if ('unchanged' in decision && decision.unchanged === 'scratch') return;
  result.pulls.push({ line, reference });
  if ('to' in decision) result.notes.push({ line, reference, note: instead(decision.to), left: true });
}
