/**
 * The sandbox: one process standing in for ECR (API and registry endpoint), Secrets Manager,
 * CloudWatch and Docker Hub (registry, token realm, Hub API), on loopback ports. The keeper reaches
 * it exactly as it reaches AWS: AWS_ENDPOINT_URL for the SDK, the proxyEndpoint ECR returns for
 * pulls, and KEEPER_UPSTREAM_REGISTRIES / KEEPER_DOCKERHUB_API_URL for Docker Hub.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AwsClientOptions } from '../lib/aws/clients.js';
import type { KeeperConfig } from '../lib/config/load.js';
import type { Endpoints } from '../lib/registry/upstreams.js';
import { CloudWatchSandbox } from './aws/cloudwatch.js';
import { EcrState } from './aws/ecr.js';
import { ecrService } from './aws/ecr-api.js';
import { AwsError, dispatchAws, sendAwsError, targetOf } from './aws/protocol.js';
import { SecretsManagerSandbox } from './aws/secrets.js';
import { SandboxClock } from './clock.js';
import { HubAccounts, type PersonalAccessToken } from './dockerhub/accounts.js';
import { HubApi } from './dockerhub/hub-api.js';
import { DockerHubRegistry } from './dockerhub/registry.js';
import { FaultInjector } from './faults.js';
import { type StartedServer, sendJson, startServer } from './http.js';
import { apiAuthorizer } from './iam/api.js';
import { IamDirectory, type Principal } from './iam/directory.js';
import type { PolicyDocument } from './iam/policy.js';
import { functionPolicy, functionRoleName, stateMachinePolicy } from './iam/roles.js';
import { hasSavedState, loadState, saveState } from './persistence.js';
import { registryError } from './registry/content.js';
import { EcrRegistry } from './registry/ecr-registry.js';
import { BlobStore } from './registry/store.js';
import { ADMIN_SECRET, CREDENTIAL_SECRET, SEED_IMAGES, type SeedOptions } from './seed.js';

export interface SandboxOptions {
  /** Evaluate IAM for every request (default true); off, every caller may do anything. */
  enforceIam?: boolean;
  /** How ECR re-checks a cached tag after 24 h: `head` (default) or `get` (a counted pull). */
  ecrRecheck?: 'head' | 'get';
  /**
   * How often a pull moves an image's lastRecordedPullTime. ECR documents only "at least once a day":
   * `daily` (default, the stricter) records a pull when the recorded one is a day old or absent;
   * `every-pull` records each one.
   */
  pullTimeRefresh?: 'daily' | 'every-pull';
  /**
   * What ECR fetches from upstream when it caches an index, not documented: `all` (default, the
   * stricter: every child manifest at once, each a Docker Hub pull) or `requested` (each child when
   * a client first asks for it by digest).
   */
  indexChildren?: 'all' | 'requested';
  /**
   * Which rules may carry an upstreamRepositoryPrefix. AWS documents it for ECR-to-ECR rules; whether
   * other upstreams take it is unknown: `ecr-only` (default, the stricter) refuses it on them with
   * InvalidParameterException, `any` takes it as the API model allows.
   */
  upstreamPrefixScope?: 'ecr-only' | 'any';
  /**
   * Other upstream registries to stand in for (quay.io, registry.k8s.io, …), each by a token-auth
   * registry of its own with public images only (anonymous pulls), as `sandbox.standIns[host]`:
   * publish images there, and rules for that upstream pull them through the cache.
   */
  upstreamStandIns?: string[];
  /**
   * The permissions boundary every role of the stack carries (its `permissionsBoundary` parameter):
   * the functions' roles and the state machine's, as `roleClientOptions` and the local night make them.
   */
  permissionsBoundary?: PolicyDocument;
  /**
   * Other upstream registries served by a real registry elsewhere (a host → its URL): the cache
   * pulls through from it, and the keeper reaches it there (the tests that hold the sandbox's own
   * upstream fetch to a real registry).
   */
  externalUpstreams?: Record<string, string>;
  /** Start with no account, secret or image. */
  empty?: boolean;
  seed?: SeedOptions;
  region?: string;
  account?: string;
  /** Keep state in this directory: loaded at start when present (no seeding), saved at stop. */
  stateDir?: string;
}

export interface SeededAccount {
  username: string;
  password: string;
  pat: PersonalAccessToken;
  secretArn: string;
  adminSecretArn?: string;
}

export interface Sandbox {
  clock: SandboxClock;
  faults: FaultInjector;
  urls: { aws: string; registry: string; dockerHub: string; hubApi: string };
  /** Environment that points the SDK, the CLI and the handlers at the sandbox (another process's). */
  env: Record<string, string>;
  /** The same, as data for code in this process: AWS client options and the keeper's endpoints. */
  clientOptions: AwsClientOptions & { endpoint: string; region: string };
  endpoints: Endpoints;
  ecr: EcrState;
  /** Who may call what: the administrator (sandbox.env's key) and each function's role. */
  iam: IamDirectory;
  /**
   * AWS client options that sign as the stack's role for `fn` (policies from deploy/stack.cjs for
   * this config), so a handler runs with exactly the permissions it would have in Lambda.
   */
  roleClientOptions(
    fn: string,
    config: KeeperConfig,
  ): AwsClientOptions & { endpoint: string; region: string };
  /**
   * The pre-warm state machine's role (deploy/stack.cjs), as the local runs' invoke check: throws
   * AccessDeniedException, as Step Functions would fail the Task, when it may not invoke `functionArn`.
   */
  authorizeStateMachineInvoke(functionArn: string): void;
  ecrRegistry: EcrRegistry;
  secrets: SecretsManagerSandbox;
  cloudwatch: CloudWatchSandbox;
  hub: DockerHubRegistry;
  /** The other upstreams' stand-ins, by host (options.upstreamStandIns). */
  standIns: Record<string, DockerHubRegistry>;
  hubAccounts: HubAccounts;
  seeded?: SeededAccount;
  /** AWS API calls received, by `service:Operation` (benchmarks compare them with the minimum). */
  awsCalls: Map<string, number>;
  /** HTTP requests received by the registry-like servers: `hub` (Docker Hub and its token realm), `registry` (ECR's), `hubapi`. */
  requests: Map<string, number>;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const clock = new SandboxClock();
  const faults = new FaultInjector();
  const store = new BlobStore();
  const secrets = new SecretsManagerSandbox(clock, region, account);
  const cloudwatch = new CloudWatchSandbox(clock);
  const ecr = new EcrState(clock, region, account, secrets);
  ecr.upstreamPrefixScope = options.upstreamPrefixScope ?? 'ecr-only';
  const hubAccounts = new HubAccounts(clock);
  const hub = new DockerHubRegistry(hubAccounts, clock, store);
  const hubApi = new HubApi(hubAccounts, clock);
  const upstreams = new Map<string, string>();
  const ecrRegistry = new EcrRegistry(ecr, secrets, store, clock, upstreams);
  ecrRegistry.recheck = options.ecrRecheck ?? 'head';
  ecrRegistry.pullTimeRefresh = options.pullTimeRefresh ?? 'daily';
  ecrRegistry.indexChildren = options.indexChildren ?? 'all';
  const services = [ecrService(ecr, clock), secrets.service(), cloudwatch.service()];
  const iam = new IamDirectory(account, region);
  iam.enforce = options.enforceIam ?? true;
  const admin = iam.addAdministrator('sandbox-admin', 'AKIASANDBOXKEEPER');
  ecr.iam = iam;
  const authorize = apiAuthorizer(iam, { region, account, secrets, ecr });
  const boundary = options.permissionsBoundary ? { permissionsBoundary: options.permissionsBoundary } : {};

  const requests = new Map<string, number>();
  const registryRoute = (prefix: string) => (req: IncomingMessage) => {
    requests.set(prefix, (requests.get(prefix) ?? 0) + 1);
    return `${prefix}:${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`;
  };
  const registryFault = (
    req: IncomingMessage,
    res: import('node:http').ServerResponse,
    fault: { status?: number; body?: unknown },
  ) => {
    const status = fault.status ?? 500;
    const code = status === 429 ? 'TOOMANYREQUESTS' : status >= 500 ? 'UNAVAILABLE' : 'DENIED';
    sendJson(res, status, fault.body ?? registryError(code, `injected fault on ${req.method} ${req.url}`));
  };

  const awsCalls = new Map<string, number>();
  const roles = new Map<string, Principal>();
  let stateMachineRole: Principal | undefined;
  const servers: StartedServer[] = [];
  servers.push(
    await startServer(
      (req, res, body) => dispatchAws(services, req, res, body, authorize),
      faults,
      (req) => {
        const target = targetOf(req);
        const service = services.find((s) => s.targetPrefix === target?.prefix);
        const route = `${service?.name ?? 'aws'}:${target?.operation ?? ''}`;
        awsCalls.set(route, (awsCalls.get(route) ?? 0) + 1);
        return route;
      },
      (req, res, fault) => {
        const target = targetOf(req);
        const service = services.find((s) => s.targetPrefix === target?.prefix);
        if (fault.awsError)
          return sendAwsError(
            res,
            new AwsError(fault.awsError, `injected ${fault.awsError}`),
            service?.queryCompatible,
          );
        sendJson(res, fault.status ?? 500, { message: 'injected fault' });
      },
    ),
  );
  servers.push(await startServer(ecrRegistry.handle, faults, registryRoute('registry'), registryFault));
  servers.push(await startServer(hub.handle, faults, registryRoute('hub'), registryFault));
  servers.push(
    await startServer(hubApi.handle, faults, registryRoute('hubapi'), (_req, res, fault) =>
      sendJson(res, fault.status ?? 500, fault.body ?? { detail: 'injected fault' }),
    ),
  );
  const [aws, registry, dockerHub, hubApiServer] = servers as [
    StartedServer,
    StartedServer,
    StartedServer,
    StartedServer,
  ];
  ecr.registryUrl = registry.url;
  ecrRegistry.url = registry.url;
  hub.url = dockerHub.url;
  hubApi.url = hubApiServer.url;
  upstreams.set('registry-1.docker.io', dockerHub.url);
  const standIns: Record<string, DockerHubRegistry> = {};
  for (const host of options.upstreamStandIns ?? []) {
    // The same kind of registry as Docker Hub's stand-in, with no accounts: anonymous pulls only.
    const standIn = new DockerHubRegistry(new HubAccounts(clock), clock, store);
    standIn.service = host;
    const server = await startServer(
      standIn.handle,
      faults,
      registryRoute(`upstream-${host}`),
      registryFault,
    );
    servers.push(server);
    standIn.url = server.url;
    upstreams.set(host, server.url);
    standIns[host] = standIn;
  }
  for (const [host, url] of Object.entries(options.externalUpstreams ?? {})) upstreams.set(host, url);
  const upstreamRegistries: Record<string, string> = {
    'registry-1.docker.io': dockerHub.url,
    ...Object.fromEntries(Object.entries(standIns).map(([host, r]) => [host, r.url])),
    ...options.externalUpstreams,
  };

  const sandbox: Sandbox = {
    clock,
    faults,
    urls: { aws: aws.url, registry: registry.url, dockerHub: dockerHub.url, hubApi: hubApiServer.url },
    env: {
      AWS_ENDPOINT_URL: aws.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
      KEEPER_UPSTREAM_REGISTRIES: Object.entries(upstreamRegistries)
        .map(([host, url]) => `${host}=${url}`)
        .join(','),
      KEEPER_DOCKERHUB_API_URL: hubApiServer.url,
    },
    clientOptions: {
      endpoint: aws.url,
      region,
      credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey },
    },
    iam,
    authorizeStateMachineInvoke: (functionArn) => {
      stateMachineRole ??= iam.addRole(
        `ecr-cache-keeper-local-prewarm-states-${region}`,
        [stateMachinePolicy({ partition: 'aws', region, account })],
        undefined,
        boundary,
      );
      iam.authorize(stateMachineRole.accessKeyId, { action: 'lambda:InvokeFunction', resource: functionArn });
    },
    roleClientOptions: (fn, config) => {
      const key = `${fn}\u0000${JSON.stringify(config)}`;
      let role = roles.get(key);
      if (!role) {
        role = iam.addRole(
          functionRoleName(fn, region),
          [functionPolicy(config, fn, { partition: 'aws', region, account })],
          undefined,
          boundary,
        );
        ecr.principals.set(role.accessKeyId, role.arn);
        roles.set(key, role);
      }
      return {
        endpoint: aws.url,
        region,
        credentials: { accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey },
      };
    },
    endpoints: {
      upstreamRegistries,
      dockerHubApi: hubApiServer.url,
    },
    ecr,
    ecrRegistry,
    secrets,
    cloudwatch,
    hub,
    standIns,
    hubAccounts,
    awsCalls,
    requests,
    stop: async () => {
      await Promise.all(servers.map((s) => s.close()));
      if (options.stateDir) saveState(sandbox, options.stateDir);
    },
  };
  if (options.stateDir && hasSavedState(options.stateDir)) loadState(sandbox, options.stateDir);
  else if (!options.empty) sandbox.seeded = seedSandbox(sandbox, options.seed);
  return sandbox;
}

/** Seeds a Docker Hub account with a PAT, the pull-through credential secret, and the base images. */
export function seedSandbox(sandbox: Sandbox, seed: SeedOptions = {}): SeededAccount {
  const username = seed.username ?? 'keeper-ci';
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const user = sandbox.hubAccounts.addUser(username, password, seed.pullLimit ?? 200);
  const expiresAt = new Date(sandbox.clock.now() + (seed.patExpiresInDays ?? 60) * DAY_MS).toISOString();
  const pat = sandbox.hubAccounts.createPat(user, 'ecr-pullthroughcache', ['repo:public_read'], expiresAt);
  const tags: Record<string, string> =
    seed.recordPatMetadata === false ? {} : { 'pat-uuid': pat.uuid, 'pat-expires-at': expiresAt };
  const secret = sandbox.secrets.create(
    CREDENTIAL_SECRET,
    JSON.stringify({ username, accessToken: pat.token }),
    { tags },
  );
  let adminSecretArn: string | undefined;
  if (seed.adminSecret !== false) {
    adminSecretArn = sandbox.secrets.create(ADMIN_SECRET, JSON.stringify({ username, password })).arn;
  }
  for (const image of seed.images ?? SEED_IMAGES) sandbox.hub.publish(image.repository, image.tag, image);
  return { username, password, pat, secretArn: secret.arn, adminSecretArn };
}

export { DAY_MS };
