/**
 * YAML and JSON, read with a YAML parser (JSON is YAML): where image references stand in compose,
 * Kubernetes, CI systems, ECS, CloudFormation and kustomize files, each rewritten where it is written.
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
  parseAllDocuments,
  visit,
  type YAMLMap,
} from 'yaml';
import { errorMessage } from '../runtime/errors.js';
import {
  cautionIfPinned,
  leaveWithForm,
  type RewriteResult,
  type RewriteTarget,
  replaceAt,
  rewriteAt,
  rewriteReference,
} from './rewrite-reference.js';
import { loginCautions } from './rewrite-yaml-logins.js';
import { entry, isBitbucketPipelines, keyName } from './yaml-nodes.js';

const TEMPLATE = 'a template expression (Actions, Helm, Jinja): rewrite the value where it is set';
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

/** Why JSON.parse refuses `text`, without the excerpt of it (or the token) V8 adds; undefined when it parses. */
function jsonFailure(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return errorMessage(error)
      .replace(/, (?:\.\.\.)?".* is not valid JSON$/s, '')
      .replace(/ token '.+'$/s, ' token') // not even one character of the file
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

/** The host name GitLab gives a service after its image: the name without tag, `/` as `-`. */
const serviceHost = (reference: string) => reference.split(/[:@]/)[0]!.replaceAll('/', '-');

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
 * GitLab CI by its content: `stages:` at the top (a list of names: Azure Pipelines' is a list of
 * objects), or a job there (a mapping with a `script:`). Bitbucket Pipelines (`pipelines:` at the
 * top) also has `script:` and `services:`, but its services name definitions, not images.
 */
function looksLikeGitlabCi(documents: readonly Document[]): boolean {
  return documents.some((doc) => {
    const top = doc.contents;
    if (!isMap(top) || entry(top, 'pipelines') !== undefined) return false;
    const stages = entry(top, 'stages');
    return (
      (isSeq(stages) && stages.items.every((stage) => isScalar(stage))) ||
      top.items.some((pair) => isMap(pair.value) && entry(pair.value, 'script') !== undefined)
    );
  });
}

/** Finds the references in one file's documents, and records the edits and notes they make. */
class YamlReferences {
  /** Where each reference stands; `to`, what replaces it when that is decided already (Helm values). */
  private readonly edits: Array<{ offset: number; reference: string; to?: string }> = [];
  /** An anchored reference is rewritten once, however many aliases name it. */
  private readonly taken = new Set<Node>();

  constructor(
    private readonly text: string,
    private readonly target: RewriteTarget,
    private readonly result: RewriteResult,
    private readonly lineCounter: LineCounter,
    private readonly gitlab: boolean,
  ) {}

  /** One document's references: rewritten where they are written, or noted. */
  read(doc: Document): void {
    this.kustomizeImages(doc);
    this.walk(doc, doc.contents, containerResources(doc));
    loginCautions(doc, (image, note) => this.cautionIfRewritten(image, note), this.target.registryHost);
  }

  /** The edits made to `lines` (the text's), in the order they stand. */
  apply(lines: string[]): void {
    // Each start moved by what the rewrites before it on its line added.
    this.edits.sort((a, b) => a.offset - b.offset);
    const shift = new Map<number, number>();
    for (const { offset, reference, to } of this.edits) {
      const { line, col } = this.lineCounter.linePos(offset);
      const index = line - 1;
      const before = lines[index]!.length;
      const start = col - 1 + (shift.get(index) ?? 0);
      if (to === undefined) rewriteAt(this.result, lines, index, start, reference, this.target);
      else replaceAt(this.result, lines, index, start, reference, to);
      shift.set(index, (shift.get(index) ?? 0) + lines[index]!.length - before);
    }
  }

  private lineOf(offset: number): number {
    return this.lineCounter.linePos(offset).line;
  }

  private source(node: Node): string {
    return this.text.slice(node.range![0], node.range![1]);
  }

  private leave(node: Node, reference: string, note: string): undefined {
    this.result.notes.push({ line: this.lineOf(node.range![0]), reference, note, left: true });
  }

  /** The reference `node` holds (a string, or an alias of one), to be rewritten where it is written. */
  private take(doc: Document, node: Node): undefined {
    if (isAlias(node)) {
      const name = `*${node.source}`;
      const anchored = node.resolve(doc);
      if (!anchored)
        return this.leave(
          node,
          name,
          `an alias (${name}) whose anchor &${node.source} is not set above it in its document`,
        );
      if (!isScalar(anchored) || typeof anchored.value !== 'string')
        return this.leave(node, name, `an alias (${name}) of something that is not an image reference`);
      return this.take(doc, anchored);
    }
    if (this.taken.has(node)) return;
    const written = this.source(node);
    this.taken.add(node);
    const asFunction = writtenAsFunction(node);
    if (asFunction) return this.leave(node, written.trim(), asFunction);
    if (hasTemplate(written)) return this.leave(node, written.trim(), TEMPLATE);
    if (!isScalar(node) || typeof node.value !== 'string')
      return this.leave(node, written.trim(), UNREAD_FORM);
    const reference = node.value.trim();
    if (reference === '') return;
    if (/\s/.test(reference))
      return this.leave(node, written.trim(), 'not an image reference this tool can read');
    const offset = this.offsetOf(node, reference);
    if (offset === undefined) return this.leave(node, written.trim(), ESCAPED);
    this.edits.push({ offset, reference });
  }

  /** Where `value` is written inside `node`, when it is there once as it reads (no escapes). */
  private offsetOf(node: Node, value: string): number | undefined {
    const written = this.source(node);
    const at = written.indexOf(value);
    return at < 0 || written.includes(value, at + 1) ? undefined : node.range![0] + at;
  }

  /**
   * A Helm-style image (`registry:`, `repository:` and `tag:` apart). With a `registry:` (Bitnami's
   * charts), both point at the cache: the registry its host, the repository the cache's path. Without
   * one the chart may add its own, so the note says what to set if it takes a full reference.
   */
  private helmImage(map: YAMLMap, repository: Node): undefined {
    // `registry: ""` (a global registry decides) is no registry.
    const written = entry(map, 'registry');
    const registry = isNode(written) && !(isScalar(written) && !written.value) ? written : undefined;
    const parts = registry ? [registry, repository] : [repository];
    if (parts.some((part) => hasTemplate(this.source(part))))
      return this.leave(repository, this.source(repository).trim(), TEMPLATE);
    const values = parts.map((part) =>
      isScalar(part) && typeof part.value === 'string' ? part.value.trim() : '',
    );
    if (values.some((v) => v === ''))
      return this.leave(repository, this.source(repository).trim(), UNREAD_FORM);
    const decision = rewriteReference(values.join('/'), this.target);
    const tag = scalarValue(entry(map, 'tag'));
    const pull = {
      line: this.lineOf(repository.range![0]),
      reference: `${values.join('/')}:${tag ?? 'latest'}`,
    };
    if ('unchanged' in decision) {
      if (decision.unchanged === 'cache') this.result.pulls.push(pull);
      return;
    }
    if ('note' in decision) return this.leave(repository, values.join('/'), decision.note);
    if (!registry)
      return this.leave(
        repository,
        values[0]!,
        `a Helm-style image without registry: (the chart may add its own): if it takes a full reference in repository, set repository: ${decision.to}`,
      );
    const cacheRepository = decision.to.slice(this.target.registryHost.length + 1);
    const offsets = parts.map((part, i) => this.offsetOf(part, values[i]!));
    if (offsets.includes(undefined)) return this.leave(repository, this.source(repository).trim(), ESCAPED);
    this.result.pulls.push(pull);
    this.edits.push(
      { offset: offsets[0]!, reference: values[0]!, to: this.target.registryHost },
      { offset: offsets[1]!, reference: values[1]!, to: cacheRepository },
    );
  }

  /** The value of `image:` or `container:` in `map`; `holder`, the key that holds `map`. */
  private imageValue(
    doc: Document,
    map: YAMLMap,
    key: string,
    value: unknown,
    containerNames: ReadonlySet<string>,
    holder: string | undefined,
  ): undefined {
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
    if (asFunction) return this.leave(value, this.source(value).trim().split('\n')[0]!, asFunction);
    if (isMap(value)) {
      if (key === 'container') {
        if (entry(value, 'image') === undefined)
          this.leave(value, this.source(value).trim().split('\n')[0]!, UNREAD_FORM);
        return; // its `image:` is read as the walk goes on
      }
      const repository = entry(value, 'repository');
      if (isNode(repository)) return this.helmImage(value, repository);
      const name = entry(value, 'name');
      if (this.gitlab && isNode(name)) return this.take(doc, name);
      if (isNode(name) && isBitbucketPipelines(doc)) return this.bitbucketImageObject(doc, value, name);
      return this.leave(
        value,
        this.source(value).trim().split('\n')[0]!,
        hasTemplate(this.source(value)) ? TEMPLATE : UNREAD_FORM,
      );
    }
    // A compose service that builds: its `image` is the name the build is tagged with, not a pull.
    if (key === 'image' && entry(map, 'build') !== undefined && !isCollection(value))
      return this.leave(
        value,
        this.source(value).trim(),
        'the name the service builds (it has build:), not an image it pulls',
      );
    // So is a skaffold build artifact's (build.artifacts[].image).
    if (key === 'image' && holder === 'artifacts' && !isCollection(value))
      return this.leave(
        value,
        this.source(value).trim(),
        'the name a build artifact is tagged with, not an image it pulls',
      );
    this.take(doc, value);
  }

  /**
   * A GitLab CI service. GitLab names its host after its image (`docker:dind` is reached as
   * `docker`, `bitnami/redis` as `bitnami__redis` and `bitnami-redis`), so one pointed at the cache
   * keeps that name as its `alias:`, or the job can no longer reach it: a string becomes
   * `{ name: …, alias: … }`; an object without an alias gets one in flow form, else a note.
   */
  private gitlabService(doc: Document, item: Node): undefined {
    if (isAlias(item)) {
      const anchored = item.resolve(doc);
      const alias =
        isScalar(anchored) && typeof anchored.value === 'string' ? serviceHost(anchored.value) : '…';
      return this.leave(
        item,
        `*${item.source}`,
        `a service named by an alias (GitLab names its host after the image): write it as { name: *${item.source}, alias: ${alias} }, then run rewrite again`,
      );
    }
    const name = isMap(item) ? entry(item, 'name') : item;
    if (!isNode(name)) return;
    if (isMap(item) && entry(item, 'alias') !== undefined) return this.take(doc, name);
    const written = this.source(name);
    const asFunction = writtenAsFunction(name);
    if (asFunction) return this.leave(name, written.trim(), asFunction);
    if (hasTemplate(written) || !isScalar(name) || typeof name.value !== 'string')
      return this.take(doc, name);
    const reference = name.value.trim();
    const decision = rewriteReference(reference, this.target);
    if ('note' in decision) return this.leave(name, reference, decision.note);
    const line = this.lineOf(name.range![0]);
    this.result.pulls.push({ line, reference });
    if ('unchanged' in decision) return;
    const alias = serviceHost(reference);
    if (isMap(item) && !item.flow)
      return this.leave(
        name,
        reference,
        `add alias: ${alias} (GitLab names a service's host after its image, and the cache's name would change it), then run rewrite again`,
      );
    const at = this.offsetOf(name, reference);
    if (at === undefined) return this.leave(name, written.trim(), ESCAPED);
    const pointed = written.replace(reference, decision.to);
    this.edits.push({
      offset: name.range![0],
      reference: written,
      to: isMap(item) ? `${pointed}, alias: ${alias}` : `{ name: ${pointed}, alias: ${alias} }`,
    });
    const base = reference.split(/[:@]/)[0]!;
    if (base.includes('/'))
      this.result.notes.push({
        line,
        reference,
        note: `GitLab also reached it as ${base.replaceAll('/', '__')}: only the alias ${alias} is kept`,
        left: false,
      });
    cautionIfPinned(this.result, line, reference);
  }

  /**
   * An Actions step's `uses: docker://…`. The runner pulls it when the job starts, before any step
   * can log in, and such a step takes no credentials: pointed at the cache it would fail on GitHub's
   * runners, so it is left, with the pull to run after the login instead.
   */
  private dockerAction(node: Node): undefined {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.startsWith('docker://')) return;
    const reference = node.value.slice('docker://'.length).trim();
    leaveWithForm(
      this.result,
      this.lineOf(node.range![0]),
      reference,
      this.target,
      (to) =>
        `a docker:// step is pulled when the job starts, before any step can log in: run docker run ${to} after the login instead (such a step takes no credentials), or keep it on a runner with the ECR credential helper`,
    );
  }

  /** A caution on `image` when the walk pointed it at the cache. */
  private cautionIfRewritten(image: unknown, note: string): void {
    if (!isScalar(image) || typeof image.value !== 'string') return;
    const [from, to] = image.range!;
    if (this.edits.some((edit) => edit.offset >= from && edit.offset < to))
      this.result.notes.push({ line: this.lineOf(from), reference: image.value, note, left: false });
  }

  /**
   * A Bitbucket Pipelines image object: its `name:` is the reference. Bitbucket sends the
   * `username:` and `password:` beside it to the registry it names, so with another registry's
   * the cache would refuse them: such an image is left, with what to write instead.
   */
  private bitbucketImageObject(doc: Document, image: YAMLMap, name: Node): undefined {
    if (entry(image, 'username') === undefined && entry(image, 'password') === undefined)
      return this.take(doc, name);
    if (!isScalar(name) || typeof name.value !== 'string') return this.take(doc, name);
    leaveWithForm(
      this.result,
      this.lineOf(name.range![0]),
      name.value,
      this.target,
      (to) =>
        `its username and password are another registry's: point name: at ${to} with aws: { oidc-role: <a role that may pull through the cache> } in their place (oidc: true on the step), or aws: access-key and secret-key`,
    );
  }

  /** `holder`: the key whose value `node` is, or whose sequence holds it. */
  private walk(doc: Document, node: unknown, containerNames: ReadonlySet<string>, holder?: string): void {
    if (isSeq(node)) for (const item of node.items) this.walk(doc, item, containerNames, holder);
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = keyName(pair);
      if (key === 'image' || key === 'container')
        this.imageValue(doc, node, key, pair.value, containerNames, holder);
      // CloudFormation: an ECS task definition's containers, a Batch job definition's container.
      else if (key === 'Image' && (holder === 'ContainerDefinitions' || holder === 'ContainerProperties'))
        this.imageValue(doc, node, 'image', pair.value, containerNames, holder);
      else if (key === 'uses' && isNode(pair.value)) this.dockerAction(pair.value);
      else if (key === 'services' && this.gitlab && isSeq(pair.value))
        for (const item of pair.value.items) if (isNode(item)) this.gitlabService(doc, item);
      this.walk(doc, pair.value, containerNames, key);
    }
  }
  /**
   * A kustomization's `images:` (name, newName, newTag, digest): `newName` is where the image is
   * pulled from, rewritten; without one, the note says what to add (kustomize keeps the tag apart).
   */
  private kustomizeImages(doc: Document): void {
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
        this.take(doc, newName);
        continue;
      }
      const name = entry(item, 'name');
      if (!isScalar(name) || typeof name.value !== 'string') continue;
      const decision = rewriteReference(name.value, this.target);
      if ('to' in decision) this.leave(name, name.value, `kustomize: add newName: ${decision.to}`);
      else if ('note' in decision) this.leave(name, name.value, decision.note);
    }
  }
}

/**
 * YAML, read with a YAML parser (so block scalars, flow collections over several lines, quoted keys,
 * anchors and several documents are what they are), and rewritten in the text as written: each
 * reference is replaced where it stands, so comments, quoting and layout stay.
 *
 * Where references are: the value of `image:` (compose, Kubernetes, CI systems, ECS task
 * definitions) and of `container:` (GitHub Actions' and Azure Pipelines' string form; the object
 * form holds an `image:`); CloudFormation's ECS and Batch `Image`; Helm values' `registry:` and
 * `repository:`; a kustomization's `newName`; in GitLab CI, `name:` of an `image:` object and
 * `services:` (keeping the host name GitLab gives each). An alias there is rewritten where its
 * anchor is set, once. What CI pulls before any login can run (an Actions `uses: docker://…` step)
 * is left, with a note.
 */
export function rewriteYaml(
  text: string,
  target: RewriteTarget,
  kind: 'yaml' | 'json',
  gitlabCi: boolean,
): RewriteResult {
  const result: RewriteResult = { kind, readable: true, output: text, changes: [], notes: [], pulls: [] };
  const lineCounter = new LineCounter();
  const readable = kind === 'json' ? plainJson(text) : maskTemplates(text);
  const documents = parseAllDocuments(readable, { lineCounter, uniqueKeys: false });
  const lines = text.split('\n');
  // YAML reads more than JSON allows (`"x": }` is a key without a value to it): JSON is held to JSON.
  const json = kind === 'json' ? jsonProblem(readable, lineCounter) : undefined;
  const broken = json
    ? [json]
    : documents.flatMap((doc) =>
        doc.errors.slice(0, 1).map((error) => ({
          line: error.linePos?.[0].line ?? 1,
          // Without the token's text the parser quotes: the file may hold secrets (a task
          // definition's environment), and the note may reach a CI log.
          why: error.message
            .split('\n')[0]!
            .replace(/ at line \d+, column \d+:?$/, '')
            .replace(/: ".*"$/, ''),
        })),
      );
  if (broken.length) {
    // Nothing half-read is rewritten: the file is left whole, with where the parser stopped.
    result.readable = false;
    for (const { line, why } of broken) {
      result.notes.push({
        line,
        reference: '', // the line itself is not repeated: see `why` above
        note: `not ${kind.toUpperCase()} this tool can read (line ${line}: ${why}): the file is left as it is`,
        left: true,
      });
    }
    return result;
  }
  const gitlab = kind === 'yaml' && (gitlabCi || looksLikeGitlabCi(documents));
  const references = new YamlReferences(text, target, result, lineCounter, gitlab);
  for (const doc of documents) references.read(doc);
  references.apply(lines);
  result.changes.sort((a, b) => a.line - b.line);
  const first = result.changes[0];
  // GitLab's runner pulls a job's image and services itself, so the job's own login cannot help
  // it: once a file, how the runner gets credentials.
  if (gitlab && first)
    result.notes.push({
      line: first.line,
      reference: first.from,
      note: `GitLab's runner pulls a job's image: and services: itself, before the job's login: give it the ECR credential helper for ${target.registryHost} (cache-keeper ci-snippet --for gitlab)`,
      left: false,
    });
  result.notes.sort((a, b) => a.line - b.line);
  result.output = lines.join('\n');
  return result;
}
