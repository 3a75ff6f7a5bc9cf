/**
 * Dockerfiles: the references FROM, COPY --from, RUN --mount=from and the syntax directive name, read
 * as Docker reads them.
 */
import { type RewriteResult, type RewriteTarget, rewriteAt } from './rewrite-reference.js';

/** The words of one physical line with where each starts, the line's continuation character dropped. */
function words(line: string, escapeChar: string): Array<{ text: string; start: number }> {
  return [...line.matchAll(/\S+/g)]
    .filter((m) => m[0] !== escapeChar)
    .map((m) => ({ text: m[0], start: m.index! }));
}

/** The parser directives at the top (`# syntax=…`, `# escape=…`): key in lower case, value and where it starts. */
function parserDirectives(
  lines: readonly string[],
): Array<{ line: number; key: string; value: string; start: number }> {
  const directives = [];
  // Directives stand first, before any other comment, blank line or instruction.
  for (const [line, text] of lines.entries()) {
    const directive = /^\uFEFF?#\s*([a-z]+)\s*=\s*(\S*)\s*$/di.exec(text); // BuildKit skips a byte order mark
    if (!directive) break;
    directives.push({
      line,
      key: directive[1]!.toLowerCase(),
      value: directive[2]!,
      start: directive.indices![2]![0],
    });
  }
  return directives;
}

export function rewriteDockerfile(text: string, target: RewriteTarget): RewriteResult {
  const result: RewriteResult = {
    kind: 'dockerfile',
    readable: true,
    output: text,
    changes: [],
    notes: [],
    pulls: [],
  };
  const lines = text.split('\n');
  const directives = parserDirectives(lines);
  // A backtick in Windows Dockerfiles.
  const escapeChar =
    directives.find((d) => d.key === 'escape' && (d.value === '`' || d.value === '\\'))?.value ?? '\\';
  // The BuildKit frontend, pulled on every build on a fresh runner: an image like any other.
  for (const syntax of directives.filter((d) => d.key === 'syntax' && d.value))
    rewriteAt(result, lines, syntax.line, syntax.start, syntax.value, target);
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
            if (!argsRewritten.has(name)) rewriteAt(result, lines, arg.line, arg.start, arg.value, target);
            argsRewritten.add(name);
          } else if (stages.has(token.text.toLowerCase()))
            result.notes.push({
              line: i + 1,
              reference: token.text,
              note: 'an earlier build stage',
              left: true,
            });
          else rewriteAt(result, lines, i, token.start, token.text, target);
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
        else rewriteAt(result, lines, i, start, reference, target);
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
