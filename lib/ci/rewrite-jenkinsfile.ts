/**
 * Jenkinsfiles: the images Jenkins pulls, found by their forms (a declarative agent's
 * `docker { image '…' }` and `agent { docker '…' }`, scripted `docker.image('…')`; a kubernetes
 * agent's inline pod template and `containerTemplate(image: '…')`) in the text with its comments
 * set aside, not by a Groovy parser. A string literal is a reference like
 * any other (a `${…}` in its tag is kept, one in its name is noted); a name from a variable is not
 * a literal and is left alone. What Jenkins pulls with no credentials for the cache gets a caution.
 */
import { leaveWithForm, type RewriteResult, type RewriteTarget, rewriteAt } from './rewrite-reference.js';
import { registryRegion } from './snippet.js';

/**
 * The text with its comments and the contents of its strings blanked (offsets kept): where the
 * forms and braces are. The quotes stay, so a literal's place is still found.
 */
function structureOf(text: string): string {
  const out = [...text];
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < text.length) {
    const two = text.slice(i, i + 2);
    if (two === '//' || two === '/*') {
      const end = two === '//' ? text.indexOf('\n', i) : text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : two === '//' ? end : end + 2;
      blank(i, stop);
      i = stop;
    } else if (text[i] === "'" || text[i] === '"') {
      const end = stringEnd(text, i);
      blank(i + 1, end - 1);
      i = end;
    } else i++;
  }
  return out.join('');
}

/**
 * Just past the string literal opening at `start` (single, double or tripled quotes; escapes; in a
 * double-quoted one, `${…}` with its own braces and strings).
 */
function stringEnd(text: string, start: number): number {
  const quote = text[start]!;
  const delimiter = text.startsWith(quote.repeat(3), start) ? quote.repeat(3) : quote;
  let i = start + delimiter.length;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text.startsWith(delimiter, i)) return i + delimiter.length;
    else if (delimiter.length === 1 && text[i] === '\n')
      return i; // unterminated: stop at the line
    else if (quote === '"' && text.startsWith('${', i)) i = interpolationEnd(text, i + 1);
    else i++;
  }
  return text.length;
}

/** Just past the `}` closing the `{` at `open` inside a string, strings within it skipped. */
function interpolationEnd(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"') i = stringEnd(text, i);
    else {
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return i + 1;
      else if (c === '\n') return i;
      i++;
    }
  }
  return text.length;
}

/** The one-line string literal opening at `start`, or undefined. */
function literalAt(text: string, start: number): { value: string; start: number } | undefined {
  const quote = text[start];
  if ((quote !== "'" && quote !== '"') || text.startsWith(quote.repeat(3), start)) return;
  const end = stringEnd(text, start);
  if (text[end - 1] !== quote) return;
  return { value: text.slice(start + 1, end - 1), start: start + 1 };
}

/** Just past the bracket that closes the one at `open`, counted outside strings and comments. */
function blockEnd(structure: string, open: number, opening = '{', closing = '}'): number {
  let depth = 0;
  for (let i = open; i < structure.length; i++) {
    if (structure[i] === opening) depth++;
    else if (structure[i] === closing && --depth === 0) return i + 1;
  }
  return structure.length;
}

export function rewriteJenkinsfile(text: string, target: RewriteTarget): RewriteResult {
  const result: RewriteResult = {
    kind: 'jenkinsfile',
    readable: true,
    output: text,
    changes: [],
    notes: [],
    pulls: [],
  };
  const structure = structureOf(text);
  const lines = text.split('\n');
  const lineStarts = [0];
  for (const line of lines) lineStarts.push(lineStarts.at(-1)! + line.length + 1);
  const position = (offset: number) => {
    let index = 0;
    while (lineStarts[index + 1]! <= offset) index++;
    return { index, column: offset - lineStarts[index]! };
  };
  let region = '<region>';
  try {
    region = registryRegion(target.registryHost);
  } catch {
    // not an ECR host (a test registry): the region stays a placeholder
  }
  const credentials = `'ecr:${region}:<credentials id>'`;
  const url = `'https://${target.registryHost}'`;
  // Edits go bottom up (within a line too), so the offsets found in the original text stay right.
  const found: Array<{ offset: number; value: string; caution?: string; shortForm?: boolean }> = [];

  /** The block opened at the end of `match`, and the string literal after `key` inside it. */
  const literalInBlock = (match: RegExpExecArray, key: RegExp, opening = '{', closing = '}') => {
    const open = match.index + match[0].length - 1;
    const block = structure.slice(open, blockEnd(structure, open, opening, closing));
    const at = key.exec(block);
    return { block, literal: at ? literalAt(text, open + at.index + at[0].length) : undefined };
  };

  for (const match of structure.matchAll(/\bdocker\s*\{/g)) {
    const { block, literal } = literalInBlock(match, /\bimage\s*\(?\s*(?=['"])/);
    if (!literal) continue;
    found.push({
      offset: literal.start,
      value: literal.value,
      caution: /\bregistryCredentialsId\b/.test(block)
        ? undefined
        : `Jenkins pulls a docker agent's image before its steps, with the credentials its block names: add registryUrl ${url} and registryCredentialsId ${credentials} (the Amazon ECR plugin's credentials; cache-keeper ci-snippet --for jenkins)`,
    });
  }
  for (const match of structure.matchAll(/\bdocker\s+(?=['"])/g)) {
    const literal = literalAt(text, match.index + match[0].length);
    if (literal) found.push({ offset: literal.start, value: literal.value, shortForm: true });
  }
  const withRegistry = /\bdocker\s*\.\s*withRegistry\s*\(/.test(structure);
  for (const match of structure.matchAll(/\bdocker\s*\.\s*image\s*\(\s*(?=['"])/g)) {
    const literal = literalAt(text, match.index + match[0].length);
    if (!literal) continue;
    found.push({
      offset: literal.start,
      value: literal.value,
      caution: withRegistry
        ? undefined
        : `pull it inside docker.withRegistry(${url}, ${credentials}) { … } (the Amazon ECR plugin's credentials): without it Jenkins pulls with none`,
    });
  }

  // A kubernetes agent's pod template written inline (yaml '''…'''): the kubelet pulls its
  // containers with the node's credentials (on EKS its ECR credential provider covers the cache's
  // names), not Jenkins: each image: line there is a reference like any other, without a caution.
  for (const match of structure.matchAll(/\bkubernetes\s*\{/g)) {
    const open = match.index + match[0].length - 1;
    const block = structure.slice(open, blockEnd(structure, open));
    const yaml = /\byaml\s*(?=['"])/.exec(block);
    if (!yaml) continue;
    const start = open + yaml.index + yaml[0].length;
    const quote = text.startsWith(text[start]!.repeat(3), start) ? 3 : 1;
    const bodyStart = start + quote;
    const body = text.slice(bodyStart, stringEnd(text, start) - quote);
    for (const line of body.matchAll(/^[ \t]*(?:-[ \t]*)?image:[ \t]*(['"]?)([^'"\s#]+)\1/gm))
      found.push({
        offset: bodyStart + line.index + line[0].length - line[1]!.length - line[2]!.length,
        value: line[2]!,
      });
  }

  // The Kubernetes plugin's scripted form: podTemplate(containers: [containerTemplate(image: '…')]).
  for (const match of structure.matchAll(/\bcontainerTemplate\s*\(/g)) {
    const { literal } = literalInBlock(match, /\bimage\s*:\s*(?=['"])/, '(', ')');
    if (literal) found.push({ offset: literal.start, value: literal.value });
  }

  found.sort((a, b) => b.offset - a.offset);
  for (const { offset, value, caution, shortForm } of found) {
    const { index, column } = position(offset);
    if (shortForm) {
      // `agent { docker 'x' }` takes no credentials: pointed at the cache it could not pull.
      leaveWithForm(
        result,
        index + 1,
        value,
        target,
        (to) =>
          `the short form docker '…' takes no registry credentials: write it as docker { image '${to}'; registryUrl ${url}; registryCredentialsId ${credentials} }`,
      );
      continue;
    }
    const before = result.changes.length;
    rewriteAt(result, lines, index, column, value, target);
    if (caution && result.changes.length > before)
      result.notes.push({ line: index + 1, reference: value, note: caution, left: false });
  }
  result.changes.reverse();
  result.notes.sort((a, b) => a.line - b.line);
  result.pulls.sort((a, b) => a.line - b.line);
  result.output = lines.join('\n');
  return result;
}
