/**
 * GitLab's own schema for .gitlab-ci.yml (app/assets/javascripts/editor/schema/ci.json), as
 * gitlab-ci-local carries and applies it: the problems GitLab's pipeline editor would report.
 * gitlab-ci-local reads the file from a git work tree of its own; nothing is run, no network.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = createRequire(import.meta.url).resolve('gitlab-ci-local/dist/index.js');

export interface GitlabCiReading {
  valid: boolean;
  /** The jobs GitLab would make of the file, by name (valid files only). */
  jobs: string[];
  /** What GitLab's schema (or gitlab-ci-local's own checks) said is wrong. */
  problems: string[];
}

export async function readGitlabCi(text: string): Promise<GitlabCiReading> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-gitlab-ci-'));
  try {
    await run('git', ['init', '-q', dir]);
    writeFileSync(join(dir, '.gitlab-ci.yml'), text);
    const listed = await run(process.execPath, [cli, '--list-json'], { cwd: dir, timeout: 60_000 }).then(
      (out) => ({ ok: true as const, stdout: out.stdout, stderr: out.stderr }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false as const,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );
    if (!listed.ok) {
      const problems = `${listed.stdout}\n${listed.stderr}`
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.startsWith('•') && !line.includes('--') && !line.includes('pipeline editor'))
        .map((line) => line.replace(/^•\s*/, ''));
      return { valid: false, jobs: [], problems: problems.length ? problems : [listed.stderr.trim()] };
    }
    const jobs = (JSON.parse(listed.stdout) as Array<{ name: string }>).map((job) => job.name);
    return { valid: true, jobs, problems: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
