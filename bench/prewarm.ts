/**
 * npm run bench:prewarm — the nightly pre-warm against what a user would otherwise run: Debian's
 * skopeo copying every image through the cache (`skopeo copy --all docker://<cache>/… dir:…`),
 * one at a time and 8 at a time. All clients run as separate processes against the same kind of
 * sandbox (a fresh one per client), measured the same way, in the same run:
 *
 *   - Docker Hub pulls and Docker Hub requests (what the sandbox's Docker Hub counted),
 *   - ECR API calls, wall time, and peak RSS (GNU time's maximum resident set size),
 *
 * for a cold night (nothing cached), the unchanged night after it (a day later, past ECR's 24 h
 * re-check; what the cold night pulled in is whole, so the keeper checks only its weekly audit's
 * share of layers) and a quiet night (another unchanged night), under both models of how ECR
 * re-checks a cached tag (`head`: a free HEAD; `get`: a counted GET; real ECR's choice is not
 * documented). Then a fault night.
 *
 * Sizes: BENCH_SIZES (default 10,100,500); runs: BENCH_RUNS (default 3 for up to 100 images, 1
 * above); skopeo one at a time only up to BENCH_SERIAL_MAX images (default 100). 50 ms of latency
 * on every Docker Hub request. BENCH_CLIENTS (e.g. `skopeo-8`) and BENCH_RECHECK (`head` or `get`)
 * narrow a run for a quick look; the keeper always runs. BENCH_AWS_LATENCY_MS adds latency to every AWS
 * call and ECR registry request as well (0 by default). The keeper runs as `cache-keeper prewarm`
 * with its default settings (concurrency 16, full mode), started as a user starts it:
 * bin/cache-keeper.mjs, which runs the bundle `npm ci` built (scripts/build-cli.mjs); the benchmark
 * builds it first if the sources changed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { createAwsClients } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config/load.js';
import { reconcile } from '../lib/ecr/reconcile.js';
import { CLOCK_SKEW_MS } from '../lib/prewarm/layer-audit.js';
import { mapConcurrent, sleep } from '../lib/runtime/retry.js';
import { type Sandbox, startSandbox } from '../sandbox/index.js';
import { median, ms, printTable } from './table.js';

const SIZES = (process.env.BENCH_SIZES ?? '10,100,500').split(',').map(Number);
const SERIAL_MAX = Number(process.env.BENCH_SERIAL_MAX ?? 100);
const LATENCY_MS = 50;
// Latency on every AWS call and ECR registry request too (0 by default: the sandbox answers at once,
// where real ECR and Secrets Manager take some milliseconds a call); BENCH_AWS_LATENCY_MS=20 shows
// how each client's work is paced once the cache's own round trips cost something.
const AWS_LATENCY_MS = Number(process.env.BENCH_AWS_LATENCY_MS ?? 0);
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const root = resolve(import.meta.dirname, '..');
const runsFor = (n: number) => Number(process.env.BENCH_RUNS ?? (n <= 100 ? 3 : 1));
// For a maintainer's quick look at one side: BENCH_CLIENTS=keeper, BENCH_RECHECK=head.
const CLIENTS = process.env.BENCH_CLIENTS?.split(',');
const RECHECKS = (process.env.BENCH_RECHECK ?? 'head,get').split(',') as Array<'head' | 'get'>;

type Client = 'keeper' | 'skopeo-1' | 'skopeo-8';
interface Night {
  pulls: number;
  hubRequests: number;
  ecrApiCalls: number;
  wallMs: number;
  peakRssMb: number;
  ok: boolean;
}

const seedImages = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    repository: `library/img${i}`,
    tag: '1',
    platforms: i % 3 === 0 ? PLATFORMS : ['linux/amd64'],
    // Small base-image layers (real ones are tens of MB): what a client moves shows in the wall time.
    layerSizes: [1024 * 1024, 256 * 1024],
  }));

function configYaml(n: number): string {
  return `rules:
  - { prefix: docker-hub, upstream: docker-hub, credentialSecret: ecr-pullthroughcache/docker-hub, template: { lifecycle: { keepLast: 6 } } }
prewarm:
  platforms: [linux/amd64, linux/arm64]
  maxUpstreamPullsPerRun: 100000
  images: [${seedImages(n)
    .map((i) => `"${i.repository.replace('library/', '')}:${i.tag}"`)
    .join(', ')}]
`;
}

/** Runs a command under GNU time; resolves with its exit code and peak RSS in MB. */
function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; rssMb: number; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('/usr/bin/time', ['-f', 'RSSKB=%M', command, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const kb = Number(/RSSKB=(\d+)/.exec(err)?.[1] ?? 0);
      done({ code: code ?? 1, rssMb: Math.round(kb / 102.4) / 10, out: out + err });
    });
  });
}

async function boot(n: number, recheck: 'head' | 'get'): Promise<{ sandbox: Sandbox; configPath: string }> {
  const sandbox = await startSandbox({
    seed: { images: seedImages(n), pullLimit: 1_000_000 },
    ecrRecheck: recheck,
  });
  const config = parseConfig(configYaml(n));
  await reconcile(createAwsClients(sandbox.clientOptions), config);
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bench-'));
  const configPath = join(dir, 'keeper.config.yaml');
  writeFileSync(configPath, configYaml(n));
  sandbox.faults.add({ match: 'hub:', latencyMs: LATENCY_MS });
  if (AWS_LATENCY_MS > 0)
    sandbox.faults.add({ match: /^(ecr|secretsmanager|cloudwatch|registry):/, latencyMs: AWS_LATENCY_MS });
  return { sandbox, configPath };
}

async function night(sandbox: Sandbox, configPath: string, client: Client, n: number): Promise<Night> {
  const pullsBefore = sandbox.hub.pulls.length;
  const hubBefore = sandbox.requests.get('hub') ?? 0;
  const ecrBefore = [...sandbox.awsCalls]
    .filter(([k]) => k.startsWith('ecr:'))
    .reduce((a, [, v]) => a + v, 0);
  const env = { ...process.env, ...sandbox.env, KEEPER_CONFIG: configPath };
  const started = performance.now();
  let peak = 0;
  let ok = true;
  if (client === 'keeper') {
    const run = await timed(process.execPath, [join(root, 'bin/cache-keeper.mjs'), 'prewarm', '--json'], env);
    peak = run.rssMb;
    ok = run.code === 0;
  } else {
    const aws = createAwsClients(sandbox.clientOptions);
    const auth = (await aws.ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!;
    const password = Buffer.from(auth.authorizationToken!, 'base64').toString().slice(4);
    const host = new URL(auth.proxyEndpoint!).host;
    const out = mkdtempSync(join(tmpdir(), 'skopeo-'));
    const images = seedImages(n);
    await mapConcurrent(images, client === 'skopeo-8' ? 8 : 1, async (image, i) => {
      const run = await timed(
        'skopeo',
        [
          'copy',
          '--all',
          '--src-tls-verify=false',
          '--src-creds',
          `AWS:${password}`,
          `docker://${host}/docker-hub/${image.repository}:${image.tag}`,
          `dir:${join(out, String(i))}`,
        ],
        env,
      );
      peak = Math.max(peak, run.rssMb);
      if (run.code !== 0) ok = false;
    });
    rmSync(out, { recursive: true, force: true });
  }
  const wallMs = performance.now() - started;
  const ecrAfter = [...sandbox.awsCalls].filter(([k]) => k.startsWith('ecr:')).reduce((a, [, v]) => a + v, 0);
  return {
    pulls: sandbox.hub.pulls.length - pullsBefore,
    hubRequests: (sandbox.requests.get('hub') ?? 0) - hubBefore,
    ecrApiCalls: ecrAfter - ecrBefore,
    wallMs,
    peakRssMb: peak,
    ok,
  };
}

const NIGHTS = ['cold', 'unchanged', 'quiet'] as const;

async function measure(n: number, recheck: 'head' | 'get', client: Client): Promise<Night[]> {
  const runs: Night[][] = [];
  for (let r = 0; r < runsFor(n); r++) {
    const { sandbox, configPath } = await boot(n, recheck);
    const nights: Night[] = [];
    for (const _ of NIGHTS) {
      if (nights.length) {
        sandbox.clock.advanceHours(25);
        // Nights are a day apart on every clock; the keeper's is the real one, which the sandbox's
        // 25 hours do not move. It must at least pass the margin within which the keeper still
        // checks images the cache received just before its last mark (lib/prewarm/layer-audit.ts).
        await sleep(CLOCK_SKEW_MS + 100);
      }
      nights.push(await night(sandbox, configPath, client, n));
    }
    await sandbox.stop();
    if (nights.some((x) => !x.ok)) throw new Error(`${client} failed on ${n} images (${recheck})`);
    runs.push(nights);
  }
  const med = (i: number): Night => ({
    pulls: median(runs.map((r) => r[i]!.pulls)),
    hubRequests: median(runs.map((r) => r[i]!.hubRequests)),
    ecrApiCalls: median(runs.map((r) => r[i]!.ecrApiCalls)),
    wallMs: median(runs.map((r) => r[i]!.wallMs)),
    peakRssMb: median(runs.map((r) => r[i]!.peakRssMb)),
    ok: true,
  });
  return NIGHTS.map((_, i) => med(i));
}

const ratio = (baseline: number, keeper: number) =>
  keeper === 0 ? (baseline === 0 ? '=' : '∞') : `${(baseline / keeper).toFixed(1)}×`;

for (const recheck of RECHECKS) {
  for (const n of SIZES) {
    const clients = (
      (n <= SERIAL_MAX ? ['keeper', 'skopeo-8', 'skopeo-1'] : ['keeper', 'skopeo-8']) as Client[]
    ).filter((c) => c === 'keeper' || !CLIENTS || CLIENTS.includes(c));
    const results = new Map<Client, Night[]>();
    for (const client of clients) {
      results.set(client, await measure(n, recheck, client));
      process.stderr.write(`${n} images, re-check ${recheck}: ${client} done\n`);
    }
    const keeper = results.get('keeper')!;
    const rows: Array<Array<string | number>> = [];
    for (const [i, label] of NIGHTS.entries()) {
      for (const client of clients) {
        const r = results.get(client)![i]!;
        rows.push([
          label,
          client === 'keeper'
            ? 'cache-keeper prewarm'
            : `skopeo copy, ${client === 'skopeo-8' ? '8' : '1'} at a time`,
          r.pulls,
          r.hubRequests,
          r.ecrApiCalls,
          ms(r.wallMs),
          client === 'keeper' ? '1.0×' : ratio(r.wallMs, keeper[i]!.wallMs),
          `${r.peakRssMb} MB`,
        ]);
      }
    }
    printTable(
      `Pre-warm, ${n} images (a third of them two platforms), ${LATENCY_MS} ms Docker Hub latency${AWS_LATENCY_MS ? `, ${AWS_LATENCY_MS} ms on every AWS call and ECR registry request` : ''}, ECR re-check model: ${recheck}; median of ${runsFor(n)}`,
      [
        'night',
        'client',
        'Docker Hub pulls',
        'Docker Hub requests',
        'ECR API calls',
        'wall time',
        'keeper faster by',
        'peak RSS',
      ],
      rows,
    );
  }
}
