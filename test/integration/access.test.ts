/**
 * CI in other AWS accounts pulling through the cache (`access:`), on the sandbox, whose IAM weighs
 * identity policies, repository policies and the registry policy as AWS does for a caller from
 * another account. Reconcile runs as the stack's role for the config, so its permissions are proven
 * with it; CI pulls with plain HTTP, as a registry client does.
 */
import { readFileSync } from 'node:fs';
import {
  GetAuthorizationTokenCommand,
  GetRegistryPolicyCommand,
  PutRegistryPolicyCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws/clients.js';
import { ciRolePolicy } from '../../lib/config/access.js';
import { parseConfig } from '../../lib/config/load.js';
import { formatReconcile } from '../../lib/ecr/format.js';
import { applySavedPlan, reconcile, savePlan } from '../../lib/ecr/reconcile.js';
import type { PolicyDocument } from '../../sandbox/iam/policy.js';
import { functionPolicy } from '../../sandbox/iam/roles.js';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { sandboxDeps } from './support/sandbox-deps.js';

const CACHE_ACCOUNT = '123456789012';
const CI_ACCOUNT = '222222222222';
const ORG = 'o-abc123def4';
const SEED = readFileSync('keeper.config.yaml', 'utf8');
const withAccess = (access: string) => parseConfig(`${SEED}\naccess:\n${access}`);

let sandbox: Sandbox;
const FOREIGN = {
  Sid: 'ReplicationFromProd',
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::999999999999:root' },
  Action: ['ecr:ReplicateImage', 'ecr:CreateRepository'],
  Resource: ['arn:aws:ecr:us-east-1:123456789012:repository/*'],
};

beforeAll(async () => {
  sandbox = await startSandbox();
  const admin = createAwsClients(sandbox.clientOptions);
  // Someone else's statement in the registry policy (replication from another account): kept.
  await admin.ecr.send(
    new PutRegistryPolicyCommand({
      policyText: JSON.stringify({ Version: '2012-10-17', Statement: [FOREIGN] }),
    }),
  );
});
afterAll(() => sandbox.stop());

/**
 * A CI job in `account` pulling `repository:tag` through the cache as a registry client does: the
 * manifest, a platform's manifest when it is an index, and the config blob (the registry's answer,
 * not the storage's). The status of the first refusal, or 200.
 */
async function ciPull(account: string, repository: string, tag: string, organizationId?: string) {
  // What `ci-snippet --for iam-policy` prints for the CI role, in its own account.
  const policy = ciRolePolicy(['docker-hub'], { region: 'us-east-1', account: CACHE_ACCOUNT });
  const role = sandbox.iam.addRole('ci', [policy as PolicyDocument], 'job', { account, organizationId });
  const ci = createAwsClients({
    ...sandbox.clientOptions,
    credentials: { accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey },
  });
  const auth = (await ci.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
  const get = (path: string) =>
    fetch(`${auth.proxyEndpoint}/v2/${repository}/${path}`, {
      redirect: 'manual',
      headers: {
        authorization: `Basic ${auth.authorizationToken}`,
        accept: [
          'application/vnd.oci.image.index.v1+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json',
        ].join(', '),
      },
    });
  const refused = async (response: Response) => ({ status: response.status, error: await response.text() });
  let response = await get(`manifests/${tag}`);
  if (!response.ok) return refused(response);
  type Manifest = { manifests?: Array<{ digest: string }>; config?: { digest: string } };
  let manifest = (await response.json()) as Manifest;
  if (manifest.manifests) {
    response = await get(`manifests/${manifest.manifests[0]!.digest}`);
    if (!response.ok) return refused(response);
    manifest = (await response.json()) as Manifest;
  }
  const blob = await get(`blobs/${manifest.config!.digest}`);
  await blob.arrayBuffer();
  if (blob.status >= 400) return refused(blob);
  return { status: 200, error: '' };
}

const registryPolicy = async () =>
  JSON.parse(
    (await createAwsClients(sandbox.clientOptions).ecr.send(new GetRegistryPolicyCommand({}))).policyText!,
  ) as { Statement: Array<{ Sid?: string }> };

describe('access: CI in other accounts pulls through the cache', () => {
  it('is denied before; after reconcile writes the statements, allowed for cached and new images', async () => {
    const seed = parseConfig(SEED);
    expect((await reconcile(sandboxDeps(sandbox, seed, { role: 'reconcile' }).aws, seed)).result.ok).toBe(
      true,
    );
    // Cached before any access was declared, from the cache's own account: the back-fill must reach it.
    expect((await ciPull(CACHE_ACCOUNT, 'docker-hub/library/node', '22-alpine')).status).toBe(200);
    expect(await ciPull(CI_ACCOUNT, 'docker-hub/library/node', '22-alpine')).toEqual({
      status: 403,
      error: expect.stringContaining('because no resource-based policy allows the ecr:BatchGetImage action'),
    });

    const config = withAccess(`  accounts: ['${CI_ACCOUNT}']\n  organizationId: ${ORG}\n`);
    const report = await reconcile(sandboxDeps(sandbox, config, { role: 'reconcile' }).aws, config);
    expect(report.result).toMatchObject({ ok: true });
    expect(report.plan.changes.map((c) => [c.kind, c.target])).toEqual([
      ['update-template', 'template docker-hub'],
      ['put-registry-policy', 'registry policy'],
      ['set-repository-policy', 'repository docker-hub/library/node'],
    ]);
    expect(formatReconcile(report)).toContain(
      `~ repository docker-hub/library/node  (SetRepositoryPolicy: creation templates only reach new repositories)\n    pull access: nobody → ${CI_ACCOUNT}, organization ${ORG}`,
    );

    expect((await ciPull(CI_ACCOUNT, 'docker-hub/library/node', '22-alpine')).status).toBe(200);
    // Not cached yet: the registry policy lets CI make the cache create the repository and fetch it.
    expect(sandbox.ecr.repositories.has('docker-hub/library/python')).toBe(false);
    expect((await ciPull(CI_ACCOUNT, 'docker-hub/library/python', '3.13-slim')).status).toBe(200);
    // Any account of the organization; no other.
    expect((await ciPull('444444444444', 'docker-hub/library/redis', '7', ORG)).status).toBe(200);
    expect(await ciPull('333333333333', 'docker-hub/library/redis', '7')).toEqual({
      status: 403,
      error: expect.stringContaining('because no resource-based policy allows the ecr:BatchGetImage action'),
    });
    expect(await ciPull('333333333333', 'docker-hub/library/alpine', '3.20')).toEqual({
      status: 403,
      error: expect.stringContaining('no resource-based policy allows'),
    });
    expect(sandbox.ecr.repositories.has('docker-hub/library/alpine')).toBe(false);

    // Someone else's statement stays; a second run changes nothing.
    expect((await registryPolicy()).Statement.map((s) => s.Sid)).toEqual([
      'ReplicationFromProd',
      'EcrCacheKeeperFirstPullAccounts',
      'EcrCacheKeeperFirstPullOrganization',
    ]);
    const writes = sandbox.ecr.writeCalls.length;
    const again = await reconcile(sandboxDeps(sandbox, config, { role: 'reconcile' }).aws, config);
    expect(again.plan.changes).toEqual([]);
    expect(sandbox.ecr.writeCalls.length).toBe(writes);
  });

  it('emptied, takes the access back everywhere it wrote it, and leaves the rest', async () => {
    const config = withAccess('  accounts: []\n');
    const report = await reconcile(sandboxDeps(sandbox, config, { role: 'reconcile' }).aws, config);
    expect(report.result).toMatchObject({ ok: true });
    expect(report.plan.changes.map((c) => c.kind).sort()).toEqual([
      'delete-repository-policy',
      'delete-repository-policy',
      'delete-repository-policy',
      'put-registry-policy',
      'recreate-template',
    ]);
    expect((await registryPolicy()).Statement).toEqual([FOREIGN]);
    expect((await ciPull(CI_ACCOUNT, 'docker-hub/library/node', '22-alpine')).status).toBe(403);
    expect((await ciPull(CI_ACCOUNT, 'docker-hub/library/python', '3.13-slim')).status).toBe(403);
    expect(
      (await reconcile(sandboxDeps(sandbox, config, { role: 'reconcile' }).aws, config)).plan.changes,
    ).toEqual([]);
  });

  it("a template that sets a repository policy needs ecr:SetRepositoryPolicy on its repositories (the stack's role has it)", async () => {
    const config = withAccess(`  accounts: ['${CI_ACCOUNT}']\n`);
    const policy = functionPolicy(config, 'reconcile', {
      partition: 'aws',
      region: 'us-east-1',
      account: CACHE_ACCOUNT,
    });
    const without = sandbox.iam.addRole('reconcile-no-set-policy', [
      {
        Statement: policy.Statement.map((s) =>
          s.Sid === 'CacheRepositories'
            ? { ...s, Action: (s.Action as string[]).filter((a) => a !== 'ecr:SetRepositoryPolicy') }
            : s,
        ),
      },
    ]);
    const denied = await reconcile(
      createAwsClients({
        ...sandbox.clientOptions,
        credentials: { accessKeyId: without.accessKeyId, secretAccessKey: without.secretAccessKey },
      }),
      config,
    );
    expect(denied.result.failed).toMatchObject({
      target: 'template docker-hub',
      error: expect.stringContaining(
        `ecr:SetRepositoryPolicy on resource: arn:aws:ecr:us-east-1:${CACHE_ACCOUNT}:repository/docker-hub/*`,
      ),
    });
    expect((await reconcile(sandboxDeps(sandbox, config, { role: 'reconcile' }).aws, config)).result.ok).toBe(
      true,
    );
  });

  it('a saved plan applied later keeps a statement someone put in the registry policy meanwhile', async () => {
    const config = withAccess(`  accounts: ['${CI_ACCOUNT}', '555555555555']\n`);
    const aws = sandboxDeps(sandbox, config, { role: 'reconcile' }).aws;
    const saved = savePlan(await reconcile(aws, config, { dryRun: true }), config, Date.now());
    expect(saved.plan.changes.map((c) => c.kind)).toContain('put-registry-policy');
    // Someone adds a statement of their own between plan -out and apply.
    const later = { ...FOREIGN, Sid: 'AddedMeanwhile' };
    const admin = createAwsClients(sandbox.clientOptions);
    const before = await registryPolicy();
    await admin.ecr.send(
      new PutRegistryPolicyCommand({
        policyText: JSON.stringify({ ...before, Statement: [...before.Statement, later] }),
      }),
    );
    expect((await applySavedPlan(aws, config, saved)).result.ok).toBe(true);
    expect((await registryPolicy()).Statement.map((s) => s.Sid)).toEqual([
      'ReplicationFromProd',
      'AddedMeanwhile',
      'EcrCacheKeeperFirstPullAccounts',
    ]);
  });

  it('removed from the config before it was emptied, the access it left in the registry policy is shown, not forgotten', async () => {
    // The last test left two accounts in; the key is now taken out of the config altogether. The
    // role then may no longer change the registry policy, but reads it: the plan says what is left.
    const seed = parseConfig(SEED);
    const report = await reconcile(sandboxDeps(sandbox, seed, { role: 'reconcile' }).aws, seed);
    expect(report.result).toMatchObject({ ok: true });
    expect(report.plan.unmanaged).toContainEqual(
      expect.stringContaining(
        `registry policy statement EcrCacheKeeperFirstPullAccounts (lets ${CI_ACCOUNT}, 555555555555 pull`,
      ),
    );
    expect(formatReconcile(report)).toContain('set `access: { accounts: [] }` and reconcile to take it back');
    expect((await registryPolicy()).Statement.map((s) => s.Sid)).toContain('EcrCacheKeeperFirstPullAccounts');

    // Emptied as the message says, then removed: nothing is left to show.
    const emptied = withAccess('  accounts: []\n');
    expect(
      (await reconcile(sandboxDeps(sandbox, emptied, { role: 'reconcile' }).aws, emptied)).result.ok,
    ).toBe(true);
    const after = await reconcile(sandboxDeps(sandbox, seed, { role: 'reconcile' }).aws, seed, {
      dryRun: true,
    });
    expect(after.plan.unmanaged).toEqual([]);
  });
});
