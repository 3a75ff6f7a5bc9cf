/**
 * The files `rewrite` and `suggest` read, from what a user names: files as they are, and
 * directories walked for the files builds and CI pull images in. A named file is read whatever its
 * name; a directory's YAML and JSON are read only when their name, place or content says they hold
 * image references (a compose file, a CI system's file, a Kubernetes manifest, ...), so that
 * `image: logo.png` in an application's own data is never taken for a container image.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { FileKind } from './rewrite-reference.js';

/**
 * Dockerfile, Containerfile, *.Dockerfile, Dockerfile.dev; *.yml and *.yaml; *.json; Jenkinsfile,
 * Jenkinsfile.release, *.jenkinsfile; else undefined.
 */
export function fileKind(path: string): FileKind | undefined {
  const name = path.split(/[\\/]/).pop()!.toLowerCase();
  if (/^(docker|container)file([.-].*)?$/.test(name) || name.endsWith('.dockerfile')) return 'dockerfile';
  if (/^jenkinsfile([.-].*)?$/.test(name) || name.endsWith('.jenkinsfile')) return 'jenkinsfile';
  if (name.endsWith('.yml') || name.endsWith('.yaml')) return 'yaml';
  if (name.endsWith('.json')) return 'json';
  return undefined;
}

/** Directories never walked: other people's code and build output. */
const NOT_WALKED = new Set([
  '.git',
  'node_modules',
  'vendor',
  'third_party',
  '.terraform',
  'bower_components',
]);

/**
 * YAML and JSON that hold image references by their name or place (path relative to the directory
 * walked, `/`-separated, lower case).
 */
const CONTAINER_CONFIG_PATHS: readonly RegExp[] = [
  /(^|\/)(docker-)?compose([.-][^/]*)?\.ya?ml$/, // compose.yaml, docker-compose.override.yml
  /(^|\/)[^/]*\.compose\.ya?ml$/,
  /(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/,
  /(^|\/)action\.ya?ml$/, // GitHub Actions (docker:// and container actions)
  /(^|\/)([^/]*\.)?gitlab-ci\.ya?ml$/,
  /(^|\/)\.gitlab\/.+\.ya?ml$/,
  /(^|\/)\.circleci\/[^/]+\.ya?ml$/,
  /(^|\/)bitbucket-pipelines\.ya?ml$/,
  /(^|\/)azure-pipelines[^/]*\.ya?ml$/,
  /(^|\/)\.buildkite\/.+\.ya?ml$/,
  /(^|\/)\.(drone|woodpecker)(\/[^/]+)?\.ya?ml$/,
  /(^|\/)skaffold[^/]*\.ya?ml$/,
  /(^|\/)kustomization\.ya?ml$/,
  /(^|\/)values[^/]*\.ya?ml$/, // Helm values
  /(^|\/)\.?devcontainer\.json$/,
  /(^|\/)\.devcontainer\/.+\.json$/,
  /(^|\/)[^/]*task-?def[^/]*\.json$/, // ECS: task-definition.json, taskdef.json
];

/**
 * YAML and JSON that hold image references by their content: Kubernetes manifests (and Helm
 * templates), CloudFormation and SAM templates, ECS task definitions and AWS Batch job definitions.
 */
const CONTAINER_CONFIG_CONTENT: readonly RegExp[] = [
  /^apiVersion:[\s\S]*^kind:|^kind:[\s\S]*^apiVersion:/m,
  /"apiVersion"\s*:[\s\S]*"kind"\s*:|"kind"\s*:[\s\S]*"apiVersion"\s*:/,
  /["']?AWSTemplateFormatVersion["']?\s*:|AWS::(ECS|Batch)::/,
  /"containerDefinitions"\s*:|"containerProperties"\s*:/,
];

/**
 * Whether a file met in a directory is one builds or CI pull images in: Dockerfiles and Jenkinsfiles
 * by name; YAML and JSON by name or place, else by content.
 */
export function isContainerConfig(relativePath: string, readText: () => string): boolean {
  const kind = fileKind(relativePath);
  if (kind === 'dockerfile' || kind === 'jenkinsfile') return true;
  if (kind === undefined) return false;
  const path = relativePath.split(sep).join('/').toLowerCase();
  if (CONTAINER_CONFIG_PATHS.some((pattern) => pattern.test(path))) return true;
  if (/(^|\/)(package-lock|npm-shrinkwrap|composer\.lock|[^/]*\.lock)\.json$/.test(path)) return false;
  const text = readText();
  return CONTAINER_CONFIG_CONTENT.some((pattern) => pattern.test(text));
}

/** The files below `directory`, relative to it: what git tracks and does not ignore, else every file. */
export function filesBelow(directory: string): string[] {
  return (gitFiles(directory) ?? walk(directory, '')).sort();
}

/** In a git work tree, its tracked and untracked files that .gitignore does not exclude; else undefined. */
function gitFiles(directory: string): string[] | undefined {
  try {
    const listed = execFileSync(
      'git',
      ['-C', directory, 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 },
    );
    return [...new Set(listed.split('\0').filter(Boolean))].filter((path) => {
      if (path.split('/').some((part) => NOT_WALKED.has(part))) return false;
      const full = join(directory, path);
      // Tracked but deleted, a submodule, or a link: nothing to read or write there.
      return existsSync(full) && lstatSync(full).isFile();
    });
  } catch {
    return undefined;
  }
}

function walk(root: string, under: string): string[] {
  return readdirSync(join(root, under), { withFileTypes: true }).flatMap((entry) => {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return NOT_WALKED.has(entry.name) ? [] : walk(root, path);
    return entry.isFile() ? [path] : []; // links are not followed
  });
}

export interface SourceFiles {
  /** The files to read, each once, in the order named (a directory's in path order). */
  files: string[];
  /** What is wrong with what was named: nothing is read when there is any. */
  problems: string[];
  /** Per directory named, its YAML and JSON files passed over as not container configuration. */
  passedOver: Array<{ directory: string; count: number }>;
}

/**
 * The files to read for the paths named to `rewrite` or `suggest`: a file must exist and be of a
 * kind they read; a directory gives its Dockerfiles, Jenkinsfiles and container configuration
 * (isContainerConfig), and must hold at least one.
 */
export function sourceFiles(paths: readonly string[]): SourceFiles {
  const result: SourceFiles = { files: [], problems: [], passedOver: [] };
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = relative('.', file);
    if (seen.has(key)) return;
    seen.add(key);
    result.files.push(file);
  };
  for (const path of paths) {
    if (!existsSync(path)) {
      result.problems.push(`${path}: no such file or directory`);
    } else if (statSync(path).isDirectory()) {
      let passedOver = 0;
      let found = 0;
      for (const file of filesBelow(path)) {
        const full = join(path, file);
        if (isContainerConfig(file, () => readFileSync(full, 'utf8'))) {
          found++;
          add(full);
        } else if (fileKind(file)) passedOver++;
      }
      if (found === 0)
        result.problems.push(
          `${path}: no Dockerfile, Jenkinsfile, compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation file below it${passedOver ? ` (${passedOver} other YAML/JSON file(s): name one to read it)` : ''}`,
        );
      else if (passedOver) result.passedOver.push({ directory: path, count: passedOver });
    } else if (fileKind(path)) {
      add(path);
    } else {
      result.problems.push(
        `${path}: not a Dockerfile (Dockerfile*, Containerfile, *.dockerfile), YAML (*.yml, *.yaml), JSON (*.json) nor Jenkinsfile (Jenkinsfile*, *.jenkinsfile)`,
      );
    }
  }
  return result;
}

/** The line that says what a directory's walk passed over, and how to read such a file anyway. */
export function passedOverLine({ directory, count }: { directory: string; count: number }): string {
  return `${directory}: ${count} YAML/JSON file(s) passed over: not compose, CI, Kubernetes, Helm, kustomize, ECS or CloudFormation by name or content (name a file to read it)`;
}
