/**
 * Rewrites image references of the registries the rules cache to the cache's (`FROM node:22` →
 * `<registry>/docker-hub/library/node:22`, `quay.io/x/y` → `<registry>/quay/x/y`) in Dockerfiles,
 * YAML (compose, Kubernetes, CI systems, CloudFormation, kustomize), JSON (ECS task definitions,
 * dev containers) and Jenkinsfiles. Tags, digests, `--platform` and stage names are kept; what it cannot or should
 * not rewrite is left as it is, with a note. Lines map one to one, and a rewritten reference names
 * the cache's registry, so a second run changes nothing.
 */

import { rewriteDockerfile } from './rewrite-dockerfile.js';
import { rewriteJenkinsfile } from './rewrite-jenkinsfile.js';
import type { FileKind, RewriteResult, RewriteTarget } from './rewrite-reference.js';
import { rewriteYaml } from './rewrite-yaml.js';
import { fileKind } from './source-files.js';

export type { FileKind, RewriteNote, RewriteResult, RewriteTarget } from './rewrite-reference.js';
export { fileKind } from './source-files.js';

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

/** `path`, when given, tells a GitLab CI file by its name (isGitlabCiFile) as well as by its content. */
export function rewriteText(
  text: string,
  kind: FileKind,
  target: RewriteTarget,
  path?: string,
): RewriteResult {
  if (kind === 'dockerfile') return rewriteDockerfile(text, target);
  if (kind === 'jenkinsfile') return rewriteJenkinsfile(text, target);
  return rewriteYaml(text, target, kind, path !== undefined && isGitlabCiFile(path));
}

/**
 * The references a file pulls through the rules or from the cache (`registryHost`) already, as
 * written, with their lines (RewriteResult.pulls).
 */
export function pulledReferences(
  text: string,
  kind: FileKind,
  target: RewriteTarget,
  path?: string,
): { readable: boolean; references: Array<{ line: number; reference: string }> } {
  const result = rewriteText(text, kind, target, path);
  return { readable: result.readable, references: result.pulls };
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
