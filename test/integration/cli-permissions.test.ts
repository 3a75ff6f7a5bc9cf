/**
 * docs/operations.md, "The permissions each command needs": every command in its table runs against
 * the sandbox (IAM enforced) as an identity holding exactly the permissions its row names, and
 * succeeds without a single denial. A command that needs more than the table says fails here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import { createRotateCredentialHandler } from '../../handlers/rotateCredential.js';
import { loadConfig } from '../../lib/config/load.js';
import { TAGS } from '../../lib/credential/metadata.js';
import { reconcile } from '../../lib/ecr/reconcile.js';
import type { PolicyDocument } from '../../sandbox/iam/policy.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { captureIo } from '../support/cli-io.js';
import { EXPIRES_DAY } from '../support/configs.js';
import { context } from '../support/lambda.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DAY_MS = 86_400_000;
const ROTATION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotateCredential';

interface Row {
  commands: string[];
  roles: string[];
  actions: string[];
}

/** The table, read from the document users read. */
function permissionTable(): Row[] {
  const doc = readFileSync('docs/operations.md', 'utf8');
  const section = doc.slice(doc.indexOf('## The permissions each command needs'));
  const rows = section
    .slice(0, section.indexOf('\n## ', 4))
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return rows.map((line) => {
    const [commands, roles, actions] = line.split('|').slice(1, 4) as [string, string, string];
    return { commands: ticked(commands), roles: ticked(roles), actions: ticked(actions) };
  });
}

/** How each command of the table is run, and what must be in place before it. */
const RUNS: Record<
  string,
  { argv: (dir: string) => string[]; stdin?: (s: Sandbox) => string; before?: string }
> = {
  validate: { argv: () => ['validate'] },
  'uri --registry': { argv: () => ['uri', 'node:22-alpine', '--registry', REGISTRY] },
  'rewrite --registry': { argv: (dir) => ['rewrite', join(dir, 'Dockerfile'), '--registry', REGISTRY] },
  'mirror-config --registry': {
    argv: () => ['mirror-config', '--for', 'containers', '--registry', REGISTRY],
  },
  'ci-snippet --registry': { argv: () => ['ci-snippet', '--for', 'github-actions', '--registry', REGISTRY] },
  uri: { argv: () => ['uri', 'node:22-alpine'], before: 'reconciled' },
  rewrite: { argv: (dir) => ['rewrite', join(dir, 'Dockerfile')], before: 'reconciled' },
  'mirror-config': { argv: () => ['mirror-config', '--for', 'containers'], before: 'reconciled' },
  plan: { argv: () => ['plan'] },
  apply: { argv: () => ['apply', '--auto-approve'] },
  prewarm: { argv: () => ['prewarm'], before: 'reconciled' },
  'prewarm --dry-run': { argv: () => ['prewarm', '--dry-run'], before: 'reconciled' },
  'prewarm --fan-out': { argv: () => ['prewarm', '--fan-out'], before: 'reconciled' },
  check: { argv: () => ['check'], before: 'reconciled' },
  metrics: { argv: () => ['metrics'], before: 'warmed' },
  'metrics --publish': { argv: () => ['metrics', '--publish'], before: 'warmed' },
  suggest: { argv: () => ['suggest'], before: 'warmed' },
  'suggest FILE…': { argv: (dir) => ['suggest', join(dir, 'Dockerfile')] },
  'credential record': {
    argv: () => [
      'credential',
      'record',
      '--expires-at',
      EXPIRES_DAY,
      '--uuid',
      '0f3c2a1e-7d4b-4c5a-9e8f-1a2b3c4d5e6f',
    ],
  },
  rotate: { argv: () => ['rotate', '--rotation-lambda-arn', ROTATION_ARN], before: 'reconciled' },
  'credential stage': {
    argv: () => ['credential', 'stage', '--expires-at', EXPIRES_DAY, '--rotation-lambda-arn', ROTATION_ARN],
    stdin: (s) =>
      s.hubAccounts.createPat(
        s.hubAccounts.users.get(s.seeded!.username)!,
        'made by hand',
        ['repo:public_read'],
        `${EXPIRES_DAY}T00:00:00Z`,
      ).token,
    before: 'reconciled',
  },
  'credential cleanup': { argv: () => ['credential', 'cleanup'], before: 'retired-token-due' },
};

const table = permissionTable();

describe('the permissions each command needs (docs/operations.md)', () => {
  it('the table lists every command this test runs, and only those', () => {
    expect(table.flatMap((r) => r.commands).sort()).toEqual(Object.keys(RUNS).sort());
  });

  it.each(table.flatMap((row) => row.commands.map((command) => [command, row] as const)))(
    '%s runs with exactly its row',
    async (command, row) => {
      const run = RUNS[command]!;
      const sandbox = await startSandbox();
      try {
        const dir = mkdtempSync(join(tmpdir(), 'keeper-permissions-'));
        writeFileSync(join(dir, 'Dockerfile'), 'FROM node:22-alpine\n');
        const configPath = join(dir, 'keeper.config.yaml');
        writeFileSync(configPath, readFileSync('keeper.config.yaml', 'utf8'));
        const config = loadConfig(configPath);
        const admin = sandboxDeps(sandbox, configPath);
        const rotateHandler = createRotateCredentialHandler(admin.as('rotateCredential'));
        sandbox.secrets.rotationFunctions.set(ROTATION_ARN, (event) => rotateHandler(event, context));
        const asAdmin = (argv: string[]) =>
          runCli([...argv, '--config', configPath], captureIo().io, admin.cli);
        if (run.before) await reconcile(admin.aws, config);
        if (run.before === 'warmed') expect(await asAdmin(['prewarm', 'node:22-alpine'])).toBe(0);
        if (run.before === 'retired-token-due') {
          expect(await asAdmin(['rotate', '--rotation-lambda-arn', ROTATION_ARN])).toBe(0);
          // The token that rotation retired, as if retired past its grace period.
          const retiredAt = new Date(
            Date.now() - (config.credential.rotation.deleteOldAfterDays + 1) * DAY_MS,
          );
          await admin.aws.secrets.send(
            new TagResourceCommand({
              SecretId: config.rules[0]!.credentialSecret,
              Tags: [{ Key: TAGS.previousDeactivatedAt, Value: retiredAt.toISOString() }],
            }),
          );
        }

        // The identity: the named roles' policies from the stack, and the listed actions.
        const policies: PolicyDocument[] = row.roles.flatMap((fn) => {
          const key = sandbox.roleClientOptions(fn, config).credentials!.accessKeyId;
          return sandbox.iam.principal(key)!.policies;
        });
        if (row.actions.length)
          policies.push({ Statement: [{ Effect: 'Allow', Action: row.actions, Resource: '*' }] });
        const operator = sandbox.iam.addRole('operator', policies);
        const io = captureIo(run.stdin?.(sandbox) ?? '');
        const code = await runCli([...run.argv(dir), '--config', configPath], io.io, {
          ...admin.cli,
          aws: {
            ...sandbox.clientOptions,
            credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
          },
        });
        expect(sandbox.iam.denials.filter((d) => d.principal === 'operator')).toEqual([]);
        expect({ code, err: io.err.join('\n') }).toEqual({ code: 0, err: '' });
        if (command === 'credential cleanup') expect(io.out.join('\n')).toMatch(/deleted retired PAT/);
      } finally {
        await sandbox.stop();
      }
    },
  );
});
