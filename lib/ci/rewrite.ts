/**
 * Rewrites image references of the registries the rules cache to the cache's (`FROM node:22` →
 * `<registry>/docker-hub/library/node:22`, `quay.io/x/y` → `<registry>/quay/x/y`) in Dockerfiles
 * YAML (docker-compose, Kubernetes, GitHub Actions, GitLab CI) and JSON (ECS task definitions, dev
 * containers, Kubernetes). Tags, digests, `--platform` and
 * stage names are kept; what it cannot or should not rewrite is left as it is, with a note. Lines map
 * one to one, and a rewritten reference names the cache's registry, so a second run changes nothing.
 */

import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseAllDocuments,
  visit,
  type YAMLMap,
} from 'yaml';
import { DIGEST_CAUTION, parseImageRef } from '../config/image-ref.js';
import { cacheRepositoryName, type RoutingRule, routeImage } from '../config/images.js';
import { errorMessage } from '../runtime/errors.js';

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
  kind: 'dockerfile' | 'yaml' | 'json';
  output: string;
  changes: Array<{ line: number; from: string; to: string }>;
  notes: RewriteNote[];
}

export type FileKind = RewriteResult['kind'];

/** Dockerfile, Containerfile, *.Dockerfile, Dockerfile.dev; *.yml and *.yaml; *.json; else undefined. */
export function fileKind(path: string): FileKind | undefined {
  const name = path.split('/').pop()!.toLowerCase();
  if (/^(docker|container)file([.-].*)?$/.test(name) || name.endsWith('.dockerfile')) return 'dockerfile';
  if (name.endsWith('.yml') || name.endsWith('.yaml')) return 'yaml';
  if (name.endsWith('.json')) return 'json';
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

/** The words of one physical line with where each starts, the line's continuation character dropped. */
function words(line: string, escapeChar: string): Array<{ text: string; start: number }> {
  return [...line.matchAll(/\S+/g)]
    .filter((m) => m[0] !== escapeChar)
    .map((m) => ({ text: m[0], start: m.index! }));
}

/** The escape character a `# escape=` parser directive sets (a backtick in Windows Dockerfiles), else `\`. */
function escapeCharacter(lines: readonly string[]): string {
  // Directives stand first, before any other comment, blank line or instruction.
  for (const line of lines) {
    const directive = line.match(/^#\s*([a-z]+)\s*=\s*(\S*)\s*$/i);
    if (!directive) break;
    if (directive[1]!.toLowerCase() === 'escape' && (directive[2] === '`' || directive[2] === '\\'))
      return directive[2];
  }
  return '\\';
}

function rewriteDockerfile(text: string, target: RewriteTarget): RewriteResult {
  const result: RewriteResult = { kind: 'dockerfile', output: text, changes: [], notes: [] };
  const lines = text.split('\n');
  const escapeChar = escapeCharacter(lines);
  const continues = new RegExp(`${escapeChar === '`' ? '`' : '\\\\'}\\s*$`);
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
    // Comment and blank lines, inside a continued instruction too (Docker drops them there).
    if (/^\s*(#|$)/.test(line)) continue;
    let tokens = words(line, escapeChar);
    if (!continued) {
      instruction = tokens[0]?.text.toUpperCase();
      fromImageDone = false;
      tokens = tokens.slice(1);
      // ONBUILD's trigger is an instruction of its own (ONBUILD COPY --from=…).
      if (instruction === 'ONBUILD') {
        instruction = tokens[0]?.text.toUpperCase();
        tokens = tokens.slice(1);
      }
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
    instruction = continues.test(line) ? instruction : undefined;
  }
  // An ARG's default is rewritten when a FROM names it, after lines below it: in line order again.
  result.changes.sort((a, b) => a.line - b.line);
  result.notes.sort((a, b) => a.line - b.line);
  result.output = lines.join('\n');
  return result;
}

const TEMPLATE = 'a template expression (Actions, Helm, Jinja): rewrite the value where it is set';
const HELM_IMAGE =
  "a Helm-style image (registry, repository and tag apart): point them at the cache's by hand, or use mirror-config";
const UNREAD_FORM =
  'a YAML form this tool does not read (a sequence, a mapping it does not know, a value that is not a string): rewrite it by hand';
const ESCAPED =
  'written with escapes in a double-quoted string: rewrite it by hand (or write it plainly, then run rewrite again)';

/** A template action: Go templates (Helm) and Jinja's `{{ … }}`, `{% … %}` and `{# … #}`, on one line. */
const TEMPLATE_ACTION = /\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}/g;
const hasTemplate = (text: string) => /\{\{|\{%/.test(text);

/**
 * The text with its template actions masked so the YAML around them parses (a Helm chart's templates
 * are YAML only once rendered): a line of actions alone becomes a comment, an action inside a line
 * filler of its length. Every offset stays where it was, so what is found maps back to the text.
 */
function maskTemplates(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!/\{[{%#]/.test(line)) return line;
      if (line.replace(TEMPLATE_ACTION, '').trim() === '') {
        const indent = line.length - line.trimStart().length;
        return `${line.slice(0, indent)}#${' '.repeat(Math.max(0, line.length - indent - 1))}`;
      }
      return line.replace(TEMPLATE_ACTION, (action) => '_'.repeat(action.length));
    })
    .join('\n');
}

/** `text` with what the sticky `pattern` matches outside JSON strings blanked to spaces, newlines kept. */
function blankOutsideStrings(text: string, pattern: RegExp): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"' && text[end] !== '\n') end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, text.length);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    pattern.lastIndex = i;
    const match = pattern.exec(text)?.[0];
    out += match ? match.replace(/[^\n]/g, ' ') : text[i];
    i += match ? match.length : 1;
  }
  return out;
}

/**
 * JSON as dev containers and VS Code write it (comments, trailing commas, a byte order mark) as
 * plain JSON, what they add blanked to spaces: every offset stays where it was.
 */
function plainJson(text: string): string {
  // A byte order mark, which JSON.parse refuses, counts as the space it takes.
  const unmarked = text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text;
  const uncommented = blankOutsideStrings(unmarked, /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/y);
  return blankOutsideStrings(uncommented, /,(?=\s*[}\]])/y);
}

/** Why JSON.parse refuses `text`, without the excerpt of it V8 adds; undefined when it parses. */
function jsonFailure(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return errorMessage(error)
      .replace(/, (?:\.\.\.)?".* is not valid JSON$/s, '')
      .replace(/ at position \d+.*$/s, '');
  }
}

/** Where and why JSON.parse refuses `text`; undefined when it parses. */
function jsonProblem(text: string, lineCounter: LineCounter): { line: number; why: string } | undefined {
  const why = jsonFailure(text);
  if (why === undefined) return undefined;
  if (/end of JSON input/.test(why)) return { line: lineCounter.linePos(text.length).line, why };
  // V8 does not always say where: the shortest prefix that fails the same way ends where it stopped.
  let low = 0;
  let high = text.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (jsonFailure(text.slice(0, mid + 1)) === why) high = mid;
    else low = mid + 1;
  }
  return { line: lineCounter.linePos(low).line, why };
}

const keyName = (pair: Pair) => (isScalar(pair.key) ? String(pair.key.value) : undefined);
const entry = (map: YAMLMap, key: string) => map.items.find((pair) => keyName(pair) === key)?.value;

/**
 * Why a value written as a function of something else is left: a CloudFormation intrinsic function
 * (`!Sub …`, `!Ref X`, `{"Fn::Sub": …}`) or another tag (`!reference [...]`); undefined for a plain value.
 */
function writtenAsFunction(node: Node): string | undefined {
  const name = isMap(node) && node.items.length === 1 ? keyName(node.items[0]!) : undefined;
  if (name && /^(Ref|Condition|Fn::\w+)$/.test(name))
    return `a CloudFormation function (${name}): point its value at the cache by hand`;
  const tag = node.tag;
  if (!tag?.startsWith('!') || tag.startsWith('!!')) return undefined;
  return /^!(Ref|Sub|GetAtt|Join|If|Select|FindInMap|ImportValue|Base64|Split|Cidr|GetAZs|Transform)$/.test(
    tag,
  )
    ? `a CloudFormation function (${tag}): point its value at the cache by hand`
    : `a tagged value (${tag}): rewrite it by hand`;
}

const scalarValue = (node: unknown) => (isScalar(node) ? node.value : undefined);

/** Azure Pipelines' container resources: the names a `container:` beside an `image:` gives them. */
function containerResources(doc: Document): Set<string> {
  const names = new Set<string>();
  visit(doc, {
    Map(_, map) {
      const name = scalarValue(entry(map, 'container'));
      if (typeof name === 'string' && entry(map, 'image') !== undefined) names.add(name);
    },
  });
  return names;
}

/**
 * GitLab CI by its content: `stages:` at the top, or a job there (a mapping with a `script:`).
 * Bitbucket Pipelines (`pipelines:` at the top) also has `script:` and `services:`, but its services
 * name definitions, not images.
 */
function looksLikeGitlabCi(documents: readonly Document[]): boolean {
  return documents.some((doc) => {
    const top = doc.contents;
    if (!isMap(top) || entry(top, 'pipelines') !== undefined) return false;
    return (
      entry(top, 'stages') !== undefined ||
      top.items.some((pair) => isMap(pair.value) && entry(pair.value, 'script') !== undefined)
    );
  });
}

/**
 * YAML, read with a YAML parser (so block scalars, flow collections over several lines, quoted keys,
 * anchors and several documents are what they are), and rewritten in the text as written: each
 * reference is replaced where it stands, so comments, quoting and layout stay.
 *
 * Where references are: the value of `image:` (compose, Kubernetes, CI systems, ECS) and of
 * `container:` (GitHub Actions' and Azure Pipelines' string form; the object form holds an
 * `image:`), a `uses: docker://…` step; in GitLab CI, `name:` of an `image:` object, and
 * `services:` items, strings or objects with a `name:`. An alias there is rewritten where its anchor
 * is set, once.
 */
function rewriteYaml(
  text: string,
  target: RewriteTarget,
  kind: 'yaml' | 'json',
  gitlabCi: boolean,
): RewriteResult {
  const result: RewriteResult = { kind, output: text, changes: [], notes: [] };
  const lineCounter = new LineCounter();
  const readable = kind === 'json' ? plainJson(text) : maskTemplates(text);
  const documents = parseAllDocuments(readable, { lineCounter, uniqueKeys: false });
  const lines = text.split('\n');
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  // YAML reads more than JSON allows (`"x": }` is a key without a value to it): JSON is held to JSON.
  const json = kind === 'json' ? jsonProblem(readable, lineCounter) : undefined;
  const broken = json
    ? [json]
    : documents.flatMap((doc) =>
        doc.errors.slice(0, 1).map((error) => ({
          line: error.linePos?.[0].line ?? 1,
          why: error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        })),
      );
  if (broken.length) {
    // Nothing half-read is rewritten: the file is left whole, with where the parser stopped.
    for (const { line, why } of broken) {
      result.notes.push({
        line,
        reference: (lines[line - 1] ?? '').trim().slice(0, 80),
        note: `not ${kind.toUpperCase()} this tool can read (line ${line}: ${why}): the file is left as it is`,
        left: true,
      });
    }
    return result;
  }
  const gitlab = kind === 'yaml' && (gitlabCi || looksLikeGitlabCi(documents));
  const edits: Array<{ offset: number; reference: string }> = [];
  const taken = new Set<Node>(); // an anchored reference is rewritten once, however many aliases name it
  const source = (node: Node) => text.slice(node.range![0], node.range![1]);
  const leave = (node: Node, reference: string, note: string): undefined => {
    result.notes.push({ line: lineOf(node.range![0]), reference, note, left: true });
  };

  /**
   * The reference `node` holds (a string, or an alias of one), to be rewritten where it is written;
   * with `scheme`, only a string that starts with it, the reference after it (`docker://node:22`).
   */
  const take = (doc: Document, node: Node, scheme = ''): undefined => {
    if (isAlias(node)) {
      const name = `*${node.source}`;
      const anchored = node.resolve(doc);
      if (!anchored)
        return leave(
          node,
          name,
          `an alias (${name}) whose anchor &${node.source} is not set above it in its document`,
        );
      if (!isScalar(anchored) || typeof anchored.value !== 'string')
        return leave(node, name, `an alias (${name}) of something that is not an image reference`);
      return take(doc, anchored, scheme);
    }
    if (taken.has(node)) return;
    taken.add(node);
    const written = source(node);
    const asFunction = writtenAsFunction(node);
    if (asFunction) return leave(node, written.trim(), asFunction);
    if (hasTemplate(written)) return leave(node, written.trim(), TEMPLATE);
    if (!isScalar(node) || typeof node.value !== 'string') return leave(node, written.trim(), UNREAD_FORM);
    if (!node.value.trim().startsWith(scheme)) return;
    const reference = node.value.trim().slice(scheme.length);
    if (reference === '') return;
    const at = written.indexOf(reference);
    if (at < 0 || written.includes(reference, at + 1)) return leave(node, written.trim(), ESCAPED);
    edits.push({ offset: node.range![0] + at, reference });
  };

  /** The value of `image:` or `container:` in `map`. */
  const imageValue = (
    doc: Document,
    map: YAMLMap,
    key: string,
    value: unknown,
    containerNames: ReadonlySet<string>,
  ): undefined => {
    if (value === null || value === undefined || !isNode(value)) return;
    if (isScalar(value) && (value.value === null || value.value === '')) return;
    // Azure Pipelines: beside an `image:`, `container:` names a container resource; a job's
    // `container:` with one of those names refers to it.
    if (
      key === 'container' &&
      (entry(map, 'image') !== undefined || containerNames.has(String(scalarValue(value))))
    )
      return;
    const asFunction = writtenAsFunction(value);
    if (asFunction) return leave(value, source(value).trim().split('\n')[0]!, asFunction);
    if (isMap(value)) {
      if (key === 'container') {
        if (entry(value, 'image') === undefined)
          leave(value, source(value).trim().split('\n')[0]!, UNREAD_FORM);
        return; // its `image:` is read as the walk goes on
      }
      const repository = entry(value, 'repository');
      if (isNode(repository)) return leave(repository, source(repository).trim(), HELM_IMAGE);
      const name = entry(value, 'name');
      if (gitlab && isNode(name)) return take(doc, name);
      return leave(
        value,
        source(value).trim().split('\n')[0]!,
        hasTemplate(source(value)) ? TEMPLATE : UNREAD_FORM,
      );
    }
    // A compose service that builds: its `image` is the name the build is tagged with, not a pull.
    if (key === 'image' && entry(map, 'build') !== undefined && !isCollection(value))
      return leave(
        value,
        source(value).trim(),
        'the name the service builds (it has build:), not an image it pulls',
      );
    take(doc, value);
  };

  /** `holder`: the key whose value `node` is, or whose sequence holds it. */
  const walk = (doc: Document, node: unknown, containerNames: ReadonlySet<string>, holder?: string): void => {
    if (isSeq(node)) for (const item of node.items) walk(doc, item, containerNames, holder);
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = keyName(pair);
      if (key === 'image' || key === 'container') imageValue(doc, node, key, pair.value, containerNames);
      // CloudFormation: an ECS task definition's containers, a Batch job definition's container.
      else if (key === 'Image' && (holder === 'ContainerDefinitions' || holder === 'ContainerProperties'))
        imageValue(doc, node, 'image', pair.value, containerNames);
      else if (key === 'uses' && isNode(pair.value))
        take(doc, pair.value, 'docker://'); // an Actions step
      else if (key === 'services' && gitlab && isSeq(pair.value))
        for (const item of pair.value.items) {
          if (!isNode(item)) continue;
          const name = isMap(item) ? entry(item, 'name') : item;
          if (isNode(name)) take(doc, name);
        }
      walk(doc, pair.value, containerNames, key);
    }
  };
  /**
   * A kustomization's `images:` (name, newName, newTag, digest): `newName` is where the image is
   * pulled from, rewritten; without one, the note says what to add (kustomize keeps the tag apart).
   */
  const kustomizeImages = (doc: Document): void => {
    const images = isMap(doc.contents) ? entry(doc.contents, 'images') : undefined;
    if (!isSeq(images) || !images.items.every((item) => isMap(item) && entry(item, 'name') !== undefined))
      return;
    const overrides = images.items as YAMLMap[];
    if (
      !overrides.some((item) => ['newName', 'newTag', 'digest'].some((key) => entry(item, key) !== undefined))
    )
      return;
    for (const item of overrides) {
      const newName = entry(item, 'newName');
      if (isNode(newName)) {
        take(doc, newName);
        continue;
      }
      const name = entry(item, 'name');
      if (!isScalar(name) || typeof name.value !== 'string') continue;
      const decision = rewriteReference(name.value, target);
      if ('to' in decision) leave(name, name.value, `kustomize: add newName: ${decision.to}`);
      else if ('note' in decision) leave(name, name.value, decision.note);
    }
  };
  for (const doc of documents) {
    kustomizeImages(doc);
    walk(doc, doc.contents, containerResources(doc));
  }

  // In the order they stand, each start moved by what the rewrites before it on its line added.
  edits.sort((a, b) => a.offset - b.offset);
  const shift = new Map<number, number>();
  for (const { offset, reference } of edits) {
    const { line, col } = lineCounter.linePos(offset);
    const index = line - 1;
    const before = lines[index]!.length;
    apply(result, lines, index, col - 1 + (shift.get(index) ?? 0), reference, target);
    shift.set(index, (shift.get(index) ?? 0) + lines[index]!.length - before);
  }
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
    : rewriteYaml(text, target, kind, path !== undefined && isGitlabCiFile(path));
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
