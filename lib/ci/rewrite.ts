/**
 * Rewrites image references of the registries the rules cache to the cache's (`FROM node:22` →
 * `<registry>/docker-hub/library/node:22`, `quay.io/x/y` → `<registry>/quay/x/y`) in Dockerfiles
 * and YAML (docker-compose, Kubernetes, GitHub Actions, GitLab CI). Tags, digests, `--platform` and
 * stage names are kept; what it cannot or should not rewrite is left as it is, with a note. Lines map
 * one to one, and a rewritten reference names the cache's registry, so a second run changes nothing.
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
  kind: 'dockerfile' | 'yaml';
  output: string;
  changes: Array<{ line: number; from: string; to: string }>;
  notes: RewriteNote[];
}

export type FileKind = RewriteResult['kind'];

/** Dockerfile, Containerfile, *.Dockerfile, Dockerfile.dev; *.yml and *.yaml; else undefined. */
export function fileKind(path: string): FileKind | undefined {
  const name = path.split('/').pop()!.toLowerCase();
  if (/^(docker|container)file([.-].*)?$/.test(name) || name.endsWith('.dockerfile')) return 'dockerfile';
  if (name.endsWith('.yml') || name.endsWith('.yaml')) return 'yaml';
  return undefined;
}

/**
 * GitLab CI by its name or place: `.gitlab-ci.yml`, `*.gitlab-ci.yml` (GitLab's template naming), or
 * under a `.gitlab/` directory (where included templates usually live). Such a file may hold only
 * hidden jobs with `services:` and no `script:` or `stages:` to tell it by.
 */
export function isGitlabCiFile(path: string): boolean {
  const parts = path.toLowerCase().split(/[\\/]/);
  const name = parts.at(-1)!;
  return (
    /(^|\.)gitlab-ci\.ya?ml$/.test(name) ||
    (parts.slice(0, -1).includes('.gitlab') && fileKind(path) === 'yaml')
  );
}

type Decision = { to: string } | { note: string } | { unchanged: true };

/** What becomes of one reference as written. */
export function rewriteReference(reference: string, target: RewriteTarget): Decision {
  if (reference.toLowerCase() === 'scratch') return { unchanged: true };
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
  if (parsed.registry === target.registryHost.toLowerCase()) return { unchanged: true };
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

/** Applies a decision to the reference found at `start` in `line`. */
function apply(
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
  if ('unchanged' in decision) return;
  const line = lines[index]!;
  lines[index] = line.slice(0, start) + decision.to + line.slice(start + reference.length);
  result.changes.push({ line: index + 1, from: reference, to: decision.to });
  if (reference.includes('@'))
    result.notes.push({
      line: index + 1,
      reference,
      note: DIGEST_CAUTION,
      left: false,
    });
}

/** The words of one physical line with where each starts, line continuation backslashes dropped. */
function words(line: string): Array<{ text: string; start: number }> {
  return [...line.matchAll(/\S+/g)]
    .filter((m) => m[0] !== '\\')
    .map((m) => ({ text: m[0], start: m.index! }));
}

function rewriteDockerfile(text: string, target: RewriteTarget): RewriteResult {
  const result: RewriteResult = { kind: 'dockerfile', output: text, changes: [], notes: [] };
  const lines = text.split('\n');
  const stages = new Set<string>();
  let heredocEnd: string | undefined;
  let instruction: string | undefined; // the instruction a continued line belongs to
  let fromImageDone = false;
  // ARGs set before the first FROM, the only ones a FROM can read: where each default is written.
  const globalArgs = new Map<string, { line: number; start: number; value: string }>();
  const argsRewritten = new Set<string>();
  let seenFrom = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (heredocEnd !== undefined) {
      if (line.trim() === heredocEnd) heredocEnd = undefined;
      continue;
    }
    const continued = instruction !== undefined;
    if (!continued && /^\s*(#|$)/.test(line)) continue;
    let tokens = words(line);
    if (!continued) {
      instruction = tokens[0]?.text.toUpperCase();
      fromImageDone = false;
      tokens = tokens.slice(1);
    }
    if (instruction === 'ARG' && !seenFrom) {
      for (const token of tokens) {
        const arg = token.text.match(/^(\w+)=(["']?)(.*)\2$/);
        if (arg?.[3])
          globalArgs.set(arg[1]!, {
            line: i,
            start: token.start + arg[1]!.length + 1 + arg[2]!.length,
            value: arg[3],
          });
      }
    } else if (instruction === 'FROM') {
      seenFrom = true;
      for (const [n, token] of tokens.entries()) {
        if (token.text.startsWith('--')) continue;
        if (!fromImageDone) {
          fromImageDone = true;
          const argName = token.text.match(/^\$(?:\{(\w+)\}|(\w+))$/);
          const arg = argName && globalArgs.get((argName[1] ?? argName[2])!);
          if (arg) {
            // The base is the ARG's default: rewritten where it is set, once for every FROM naming it.
            const name = (argName[1] ?? argName[2])!;
            if (!argsRewritten.has(name)) apply(result, lines, arg.line, arg.start, arg.value, target);
            argsRewritten.add(name);
          } else if (stages.has(token.text.toLowerCase()))
            result.notes.push({
              line: i + 1,
              reference: token.text,
              note: 'an earlier build stage',
              left: true,
            });
          else apply(result, lines, i, token.start, token.text, target);
        } else if (token.text.toUpperCase() === 'AS' && tokens[n + 1]) {
          stages.add(tokens[n + 1]!.text.toLowerCase());
        }
      }
    } else if (instruction === 'COPY' || instruction === 'ADD' || instruction === 'RUN') {
      for (const token of tokens) {
        const from =
          token.text.match(/^--from=(.+)$/i) ??
          (/^--mount=/i.test(token.text) ? token.text.match(/[=,]from=([^,]+)/i) : null);
        if (!from) continue;
        const reference = from[1]!;
        const start = token.start + token.text.indexOf(reference, token.text.indexOf('from=') + 5);
        if (stages.has(reference.toLowerCase()) || /^\d+$/.test(reference))
          result.notes.push({ line: i + 1, reference, note: 'an earlier build stage', left: true });
        else apply(result, lines, i, start, reference, target);
      }
      const heredoc = line.match(/<<-?\s*["']?([A-Za-z_][\w]*)["']?/);
      if (heredoc) heredocEnd = heredoc[1];
    }
    instruction = /\\\s*$/.test(line) ? instruction : undefined;
  }
  // An ARG's default is rewritten when a FROM names it, after lines below it: in line order again.
  result.changes.sort((a, b) => a.line - b.line);
  result.notes.sort((a, b) => a.line - b.line);
  result.output = lines.join('\n');
  return result;
}

/**
 * `image: node:22`, `- image: "node:22"`, `image: &node node:22` (anchored), Actions' `container:
 * node:22` (the string form); GitLab's service lists and image objects are read by gitlabReference,
 * flow collections by flowEntries, aliases by anchoredReference.
 */
const YAML_IMAGE =
  /^(\s*(?:-\s+)?(?:image|container)\s*:\s+(?:&\S+\s+)?)(["']?)([^\s"'#[\]{}&!|>%@`][^\s"'#[\]]*)\2(\s*(?:#.*)?)$/;
/** An image key with a value YAML_IMAGE does not read: a flow collection, an alias, a block scalar, a tag. */
const YAML_IMAGE_KEY = /^(\s*(?:-\s+)?(image|container)\s*:\s+(?:&\S+\s+)?)([^#\s].*)$/;
/** A value that is not a reference at all: YAML's empty string and null, or only an anchor (a mapping follows). */
const YAML_EMPTY = /^(?:""|''|~|null|&\S+)\s*(?:#.*)?$/i;
const TEMPLATE = 'a template expression (Actions, Helm, Jinja): rewrite the value where it is set';
const HELM_IMAGE =
  "a Helm-style image (registry, repository and tag apart): point them at the cache's by hand, or use mirror-config";
const UNREAD_FORM =
  'a YAML form this tool does not read (a block scalar, a tag, a mapping it does not know): rewrite it by hand';

const BLANK_OR_COMMENT = /^\s*(#.*)?$/;
const isListItem = (line: string) => /^\s*-(\s|$)/.test(line);
/** A block mapping key, in a list item or not: the text before it, and the key. */
const KEY_LINE = /^(\s*(?:-\s+)?)([\w.-]+)\s*:/;
const indentOf = (line: string) => line.length - line.trimStart().length;

/**
 * The keys of the block mapping that holds the key at `column` on line `at` (its own included): the
 * lines around it at that column, up to the mapping's parent or the list item that opens it.
 */
function mappingKeys(lines: string[], at: number, column: number): string[] {
  const keyAt = (line: string) => {
    const m = KEY_LINE.exec(line);
    return m && m[1]!.length === column ? m[2] : undefined;
  };
  const keys: string[] = [];
  const opensItem = (line: string) => isListItem(line) && keyAt(line) !== undefined;
  for (let j = at; j >= 0; j--) {
    const line = lines[j]!;
    if (BLANK_OR_COMMENT.test(line)) continue;
    if (indentOf(line) < column && !opensItem(line)) break;
    const key = keyAt(line);
    if (key) keys.push(key);
    if (opensItem(line)) break;
  }
  for (let j = at + 1; j < lines.length; j++) {
    const line = lines[j]!;
    if (BLANK_OR_COMMENT.test(line)) continue;
    if (indentOf(line) < column) break;
    const key = keyAt(line);
    if (key) keys.push(key);
  }
  return keys;
}

/** GitLab CI: a service as a string list item (`- postgres:17`), and `name:` of a service or image object. */
const YAML_LIST_STRING = /^(\s*-\s+(?:&\S+\s+)?)(["']?)([^\s"'#[\]{}:&!|>%@`][^\s"'#[\]{}]*)\2(\s*(?:#.*)?)$/;
const YAML_NAME =
  /^(\s*(?:-\s+)?name\s*:\s+(?:&\S+\s+)?)(["']?)([^\s"'#[\]{}&!|>%@`][^\s"'#[\]]*)\2(\s*(?:#.*)?)$/;

/**
 * The line that holds line `at`: the nearest one above it indented less (a block sequence may sit at
 * its key's own indentation, so for a list item also a key line at the same indentation).
 */
function parentLine(lines: string[], at: number): number | undefined {
  const own = indentOf(lines[at]!);
  const item = isListItem(lines[at]!);
  for (let j = at - 1; j >= 0; j--) {
    const line = lines[j]!;
    if (BLANK_OR_COMMENT.test(line)) continue;
    const indent = indentOf(line);
    if (indent < own || (item && indent === own && !isListItem(line))) return j;
  }
  return undefined;
}

const keyOf = (line: string | undefined) => line?.match(KEY_LINE)?.[2];

/** The key of the list that line `at` (a list item, or a key inside one) belongs to. */
function listKey(lines: string[], at: number): string | undefined {
  const item = isListItem(lines[at]!) ? at : parentLine(lines, at);
  if (item === undefined || !isListItem(lines[item]!)) return undefined;
  const parent = parentLine(lines, item);
  return parent === undefined ? undefined : keyOf(lines[parent]);
}

/** Where line `at` holds an image reference YAML_IMAGE does not match: GitLab's services and image objects. */
function gitlabReference(lines: string[], at: number): RegExpMatchArray | undefined {
  const line = lines[at]!;
  const name = line.match(YAML_NAME);
  if (name) {
    const parent = parentLine(lines, at);
    // Under `image:` with nothing after it (GitLab's image object), not beside an `- image: x` key.
    const inImage =
      !isListItem(line) && parent !== undefined && /^\s*image\s*:\s*(&\S+\s*)?(#.*)?$/.test(lines[parent]!);
    return inImage || listKey(lines, at) === 'services' ? name : undefined;
  }
  const item = line.match(YAML_LIST_STRING);
  return item && listKey(lines, at) === 'services' ? item : undefined;
}

interface FlowEntry {
  /** The entry's key in a flow mapping; undefined for a sequence item. */
  key?: string;
  value: string;
  /** Where the value starts on the line. */
  start: number;
  /** 1 for the collection's own entries, 2 for those of a collection inside it. */
  depth: number;
}

const FLOW_PAIR = /^\s*([\w.-]+)\s*:\s+(["']?)([^\s"',{}[\]][^\s"',{}[\]]*)\2\s*$/d;
const FLOW_ITEM = /^\s*(["']?)([^\s"',{}[\]][^\s"',{}[\]]*)\1\s*$/d;

/**
 * The plain entries of the flow collection that opens at `from` on `line` (`{ name: node:22 }`,
 * `[postgres:17, { name: redis:7 }]`); undefined when it does not close on this line.
 */
function flowEntries(line: string, from: number): FlowEntry[] | undefined {
  const entries: FlowEntry[] = [];
  // Each open collection: a mapping or not, where its current entry starts, and whether that entry
  // holds a collection (then it is not a plain value).
  const open: Array<{ mapping: boolean; from: number; nested: boolean }> = [];
  for (let i = from; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"' || c === "'") {
      const close = line.indexOf(c, i + 1);
      if (close < 0) return undefined;
      i = close;
    } else if (c === '#' && /\s/.test(line[i - 1] ?? ' ')) {
      return undefined; // a comment inside the collection: it goes on below
    } else if (c === '{' || c === '[') {
      if (open.length) open.at(-1)!.nested = true;
      open.push({ mapping: c === '{', from: i + 1, nested: false });
    } else if (c === ',' || c === '}' || c === ']') {
      const top = open.at(-1);
      if (!top) return undefined;
      const segment = line.slice(top.from, i);
      const m = top.nested ? null : (top.mapping ? FLOW_PAIR : FLOW_ITEM).exec(segment);
      if (m) {
        const value = top.mapping ? 3 : 2;
        entries.push({
          key: top.mapping ? m[1] : undefined,
          value: m[value]!,
          start: top.from + m.indices![value]![0],
          depth: open.length,
        });
      }
      if (c === ',') Object.assign(top, { from: i + 1, nested: false });
      else {
        open.pop();
        if (open.length === 0) return entries;
      }
    }
  }
  return undefined;
}

/** `image: {…}`, `container: {…}`, GitLab's `services: […]` on one line: the key, and where the collection opens. */
const FLOW_LINE = /^(\s*(?:-\s+)?(image|container|services)\s*:\s+(?:&\S+\s+)?)[[{]/;

/** The references a one-line flow collection holds, by the form each key takes. */
function flowReferences(key: string, entries: FlowEntry[], gitlab: boolean): FlowEntry[] {
  return entries.filter((e) => {
    if (key === 'container') return e.depth === 1 && e.key === 'image'; // Actions' container object
    if (!gitlab) return false;
    if (key === 'image') return e.depth === 1 && e.key === 'name'; // GitLab's image object
    return (e.depth === 1 && e.key === undefined) || (e.depth === 2 && e.key === 'name'); // services
  });
}

/**
 * `image: *node`: the line above that sets the anchor and where its value starts, when that value is
 * a plain scalar (`NODE_IMAGE: &node node:22`); else why not.
 */
function anchoredReference(
  lines: string[],
  at: number,
  anchor: string,
): { line: number; start: number; reference: string } | { note: string } {
  const sets = new RegExp(`(?:^|\\s)&${anchor.replace(/[^\w]/g, '\\$&')}(?:\\s|$)`);
  for (let j = at - 1; j >= 0; j--) {
    // The nearest anchor above: YAML lets a later anchor of the same name replace an earlier one.
    if (!sets.test(lines[j]!)) continue;
    const scalar = lines[j]!.match(
      /^(\s*(?:-\s+)?(?:[\w.-]+\s*:\s+)?&\S+\s+)(["']?)([^\s"'#[\]{}*&!|>%@`][^\s"'#[\]]*)\2(\s*(?:#.*)?)$/,
    );
    if (!scalar) return { note: `an alias (*${anchor}) of something that is not an image reference` };
    return { line: j, start: scalar[1]!.length + scalar[2]!.length, reference: scalar[3]! };
  }
  return { note: `an alias (*${anchor}) whose anchor &${anchor} is not in this file` };
}

function rewriteYaml(text: string, target: RewriteTarget, gitlabCi: boolean): RewriteResult {
  const result: RewriteResult = { kind: 'yaml', output: text, changes: [], notes: [] };
  const lines = text.split('\n');
  // GitLab CI's forms only in a GitLab CI file (by its name, a job's `script:`, or `stages:`):
  // elsewhere a `services:` list of names is just that.
  const gitlab = gitlabCi || /^\s*(?:-\s+)?script\s*:/m.test(text) || /^stages\s*:/m.test(text);
  const anchorsDone = new Set<number>(); // lines whose anchored value an alias had rewritten
  const leave = (i: number, reference: string, note: string) =>
    result.notes.push({ line: i + 1, reference, note, left: true });
  /** The reference at `start` on line `i`; an alias (`*node`) is rewritten where its anchor is set. */
  const take = (i: number, start: number, reference: string) => {
    const alias = reference.match(/^\*([^\s,[\]{}]+)$/);
    if (!alias) return apply(result, lines, i, start, reference, target);
    const anchored = anchoredReference(lines, i, alias[1]!);
    if ('note' in anchored) return leave(i, reference, anchored.note);
    // Once however many aliases name it (an anchored image line was already rewritten above, and
    // reads as the cache's now).
    if (anchorsDone.has(anchored.line)) return;
    anchorsDone.add(anchored.line);
    apply(result, lines, anchored.line, anchored.start, anchored.reference, target);
  };
  /**
   * A line with no reference YAML_IMAGE or GitLab's forms read: a one-line flow collection's
   * references, or a note for an image it leaves (a Helm-style image, a template, a form it does not
   * read).
   */
  const otherForms = (i: number, line: string): void => {
    const flow = line.match(FLOW_LINE);
    if (flow && !line.includes('{{') && (flow[2] !== 'services' || gitlab)) {
      const entries = flowEntries(line, flow[1]!.length);
      if (!entries) {
        leave(
          i,
          line.slice(flow[1]!.length).trim(),
          'a flow collection that goes on past this line: rewrite it by hand',
        );
        return;
      }
      const references = flowReferences(flow[2]!, entries, gitlab);
      // Left to right, each start moved by what the rewrites before it on the line added.
      let shift = 0;
      for (const entry of references) {
        const before = lines[i]!.length;
        take(i, entry.start + shift, entry.value);
        shift += lines[i]!.length - before;
      }
      if (references.length === 0 && flow[2] !== 'services')
        leave(
          i,
          line.slice(flow[1]!.length).trim(),
          entries.some((e) => e.key === 'repository') ? HELM_IMAGE : UNREAD_FORM,
        );
      return;
    }
    const helm = line.match(/^\s*repository\s*:\s+(["']?)([^\s"'#]+)\1/);
    if (helm) {
      const parent = parentLine(lines, i);
      if (parent !== undefined && /^\s*(?:-\s+)?image\s*:\s*(&\S+\s*)?(#.*)?$/.test(lines[parent]!))
        leave(i, helm[2]!, HELM_IMAGE);
      return;
    }
    const other = line.match(YAML_IMAGE_KEY);
    if (other && !YAML_EMPTY.test(other[3]!))
      leave(i, other[3]!.replace(/\s+#.*$/, ''), other[3]!.includes('{{') ? TEMPLATE : UNREAD_FORM);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const match = line.match(YAML_IMAGE) ?? (gitlab ? gitlabReference(lines, i) : undefined);
    if (!match) {
      otherForms(i, line);
      continue;
    }
    const start = match[1]!.length + match[2]!.length;
    // A compose service that builds: its `image` is the name the build is tagged with, not a pull.
    const column = /^\s*(?:-\s+)?/.exec(lines[i]!)![0].length;
    if (/image\s*:/.test(match[1]!) && mappingKeys(lines, i, column).includes('build')) {
      leave(i, match[3]!, 'the name the service builds (it has build:), not an image it pulls');
      continue;
    }
    take(i, start, match[3]!);
  }
  // An anchor's value is rewritten when an alias below names it: in line order again.
  result.changes.sort((a, b) => a.line - b.line);
  result.notes.sort((a, b) => a.line - b.line);
  result.output = lines.join('\n');
  return result;
}

/** `path`, when given, tells a GitLab CI file by its name (isGitlabCiFile) as well as by its content. */
export function rewriteText(
  text: string,
  kind: FileKind,
  target: RewriteTarget,
  path?: string,
): RewriteResult {
  return kind === 'dockerfile'
    ? rewriteDockerfile(text, target)
    : rewriteYaml(text, target, path !== undefined && isGitlabCiFile(path));
}

/** A unified diff of two texts whose lines correspond one to one (what a rewrite produces). */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const changed = a.map((line, i) => line !== b[i]);
  const relative = path.replace(/^\/+/, '');
  const out = [`--- a/${relative}`, `+++ b/${relative}`];
  let i = 0;
  while (i < a.length) {
    if (!changed[i]) {
      i++;
      continue;
    }
    // One hunk: from `context` lines before the first change to `context` after the last one that
    // is within 2 × context of the next.
    const start = Math.max(0, i - context);
    let end = i;
    while (end < a.length) {
      let next = end + 1;
      while (next < a.length && !changed[next]) next++;
      if (next < a.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(a.length, end + context + 1);
    out.push(`@@ -${start + 1},${stop - start} +${start + 1},${stop - start} @@`);
    for (let k = start; k < stop; k++) {
      if (changed[k]) out.push(`-${a[k]}`, `+${b[k]}`);
      else out.push(` ${a[k]}`);
    }
    i = stop;
  }
  return out.join('\n');
}
