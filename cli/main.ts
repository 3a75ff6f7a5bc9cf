/**
 * cache-keeper: everything the Lambda functions do, from a terminal, against AWS or the sandbox
 * (through the SDK's standard environment: AWS_REGION, AWS_ENDPOINT_URL, credentials).
 */
import { parseArgs } from 'node:util';
import { describeAccess } from '../lib/config/access.js';
import { loadConfig } from '../lib/config/load.js';
import { lifecycleLines } from '../lib/ecr/format.js';
import { redactText } from '../lib/runtime/redact.js';
import packageJson from '../package.json' with { type: 'json' };
import {
  checkCommand,
  cleanupCommand,
  credentialOptionProblems,
  recordCommand,
  rotateCommand,
  stageCommand,
} from './commands/credential.js';
import { metricsCommand } from './commands/metrics.js';
import { prewarmCommand, uriCommand } from './commands/prewarm.js';
import { reconcileCommand } from './commands/reconcile.js';
import { type CliSetup, commandDeps } from './deps.js';
import { COMMAND_HELP, EXIT_CODES } from './help.js';
import { failureLine, hintFor } from './hints.js';
import { type CliIo, stdio } from './io.js';

/** Set to "bundle" by scripts/build-cli.mjs in the built command; absent when running the sources. */
declare const KEEPER_BUILD: string | undefined;

/** The package's version, and whether this is the built command or the TypeScript sources. */
function version(): string {
  return `${packageJson.version} (${typeof KEEPER_BUILD === 'string' ? KEEPER_BUILD : 'sources'})`;
}

const USAGE = `usage: cache-keeper <command> [options]

commands:
  validate            check keeper.config.yaml and print the desired state it declares
  plan                show what reconcile would change (dry run; writes nothing)
  apply               reconcile rules, templates, lifecycle policies and access: to the desired state
  prewarm [IMAGE...]  pull the configured (or the given) images through the cache
  check               is each Docker Hub token valid, and how many days has it left
  rotate              rotate the credential secret now (Secrets Manager calls rotateCredential)
  credential stage    stage a new token from stdin (--expires-at DATE [--uuid U]) and rotate to it
  credential record   record the expiry (--expires-at DATE [--uuid U]) of the token in the secret
  credential cleanup  delete the Docker Hub tokens earlier rotations retired, once their grace period is over
  metrics             cache size, images, stale images and cost (--publish also sends them to CloudWatch)
  suggest [PATH...]   images CI pulls (or the files pull) that are not on prewarm.images, and listed ones nobody pulls
  rewrite PATH...     point Dockerfiles, compose, Kubernetes, CI (Jenkinsfiles too) and ECS files at the cache (--check, --diff)
  mirror-config --for containers|containerd|buildkit|docker
                      print the client configuration that pulls docker.io (and every other
                      registry the cache covers) through the cache
  ci-snippet --for github-actions|gitlab|buildkite|circleci|bitbucket|jenkins|azure-pipelines|iam-policy
                      print the CI steps that log in to the cache and pull through it, or the CI role's policy
  uri IMAGE...        print the cache reference CI should pull (node:22-alpine → <registry>/docker-hub/library/node:22-alpine)
  cycle               boot the sandbox and run the nightly cycle end to end

options:
  --config FILE       desired-state file (default: $KEEPER_CONFIG or keeper.config.yaml)
  --region REGION     the AWS region; else AWS_REGION, AWS_DEFAULT_REGION, or the profile's region
                      (AWS_PROFILE in AWS_CONFIG_FILE or ~/.aws/config), as the AWS CLI resolves it
  --json              machine-readable output
  --registry HOST     (uri, rewrite, mirror-config, ci-snippet, suggest PATH...) the registry host, instead of asking ECR
  --days N            (suggest) the window of pulls looked at (default 7)
  --config-lines      (suggest) also print the prewarm.images lines to add
  --check             (rewrite) write nothing; exit 1 when a file would change
  --diff              (rewrite) write nothing; print a unified diff
  --for CLIENT        (ci-snippet) github-actions, gitlab, buildkite, circleci, bitbucket, jenkins, azure-pipelines or iam-policy; (mirror-config) containers: registries.conf for podman, buildah, skopeo, CRI-O;
                      containerd: certs.d/<registry>/hosts.toml; buildkit: buildkitd.toml; docker: why not
  --insecure          (mirror-config) plain HTTP to the mirror (a local test registry only)
  --secret NAME       (check, rotate, credential) the credential secret; default: the Docker Hub rule's
  --expires-at DATE   (credential stage|record) when the token expires
  --uuid UUID         (credential stage|record) the token's uuid in Docker Hub
  --rotation-lambda-arn ARN  (rotate, credential stage) the rotation function, if not yet configured
  --wait SECONDS      (rotate, credential stage) how long to follow the rotation (default 120);
                      exit 0 succeeded, 1 failed, 3 still in progress
  --detailed-exitcode (plan) 0 no changes, 2 changes, 1 a problem
  --out FILE, -out FILE  (plan) save the plan; \`apply FILE\` applies exactly it;
                      (mirror-config --for containerd) the certs.d directory to write each hosts.toml in
  --dry-run           (prewarm) only the free checks: which images would spend Docker Hub pulls
  --fan-out           (prewarm) run the night through the nightly state machine, here
  --auto-approve      (apply) do not ask (apply asks on a terminal, and never asks when not on one)
  --version           the version
  -h, --help          this help; \`cache-keeper <command> --help\` or \`cache-keeper help <command>\` for one command

${EXIT_CODES}`;

function parseCliArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      registry: { type: 'string' },
      for: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      days: { type: 'string' },
      'config-lines': { type: 'boolean', default: false },
      diff: { type: 'boolean', default: false },
      publish: { type: 'boolean', default: false },
      secret: { type: 'string' },
      'expires-at': { type: 'string' },
      uuid: { type: 'string' },
      'rotation-lambda-arn': { type: 'string' },
      wait: { type: 'string' },
      'detailed-exitcode': { type: 'boolean', default: false },
      out: { type: 'string' },
      'auto-approve': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'fan-out': { type: 'boolean', default: false },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

/**
 * Runs one command. `setup` says where AWS and Docker Hub are (default: the environment, as the
 * SDK reads it); tests and the sandbox hand in their own.
 */
export async function runCli(argv: string[], io: CliIo = stdio, setup: CliSetup = {}): Promise<number> {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    // terraform's single-dash spellings (-out FILE, -out=FILE, -auto-approve, -detailed-exitcode) too.
    const TERRAFORM_STYLE = /^-(out|auto-approve|detailed-exitcode)(=.*)?$/;
    parsed = parseCliArgs(argv.map((a) => (TERRAFORM_STYLE.test(a) ? `-${a}` : a)));
  } catch (error) {
    // node:util's message for an unknown or malformed option, then the usage.
    io.err(`cache-keeper: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.version) {
    io.out(`cache-keeper ${version()}`);
    return 0;
  }
  // `help`, `help <command>`, `<command> --help`: that command's help, else the overview.
  const helpFor = command === 'help' ? positionals[1] : values.help ? command : undefined;
  if (command === 'help' || values.help || !command) {
    io.out((helpFor && COMMAND_HELP[helpFor]) ?? USAGE);
    return command || values.help ? 0 : 2;
  }
  const env = setup.env ?? process.env;
  const path = values.config ?? env.KEEPER_CONFIG ?? 'keeper.config.yaml';
  let built: ReturnType<typeof commandDeps> | undefined;
  const deps = () =>
    (built ??= commandDeps(loadConfig(path), { ...setup, region: values.region ?? setup.region }));
  switch (command) {
    case 'validate': {
      const config = loadConfig(path);
      if (values.json) {
        io.out(JSON.stringify(config, null, 2));
      } else {
        io.out(`${path}: valid`);
        for (const r of config.rules) {
          io.out(
            `  rule ${r.prefix} → ${r.upstreamUrl}${r.upstreamPrefix !== 'ROOT' ? `/${r.upstreamPrefix}` : ''}` +
              (r.credentialSecretName ? ` (credential ${r.credentialSecretName})` : ''),
          );
          if (r.template?.lifecyclePolicy)
            for (const line of lifecycleLines(r.template.lifecyclePolicy)) io.out(`    template ${line}`);
        }
        io.out(
          `  pre-warm: ${config.prewarm.images.length} images on ${config.prewarm.platforms.join(', ')}`,
        );
        if (config.access) io.out(`  access: ${describeAccess(config.access)} may pull through the cache`);
        if (config.reconcile.excludeRepositories.length)
          io.out(`  reconcile leaves alone: ${config.reconcile.excludeRepositories.join(', ')}`);
      }
      return 0;
    }
    case 'cycle': {
      // The sandbox is loaded only by the command that starts it.
      const { cycleCommand } = await import('./commands/cycle.js');
      if (positionals.length > 2 || (positionals[1] && !values.json)) {
        io.err('cache-keeper cycle: the only argument is the file for --json, e.g. cycle --json report.json');
        return 2;
      }
      return cycleCommand(io, { json: values.json, jsonFile: positionals[1], config: values.config });
    }
    case 'plan':
    case 'apply':
      return reconcileCommand(deps(), io, {
        dryRun: command === 'plan',
        json: values.json,
        env,
        detailedExitCode: values['detailed-exitcode'],
        out: values.out,
        planFile: command === 'apply' ? positionals[1] : undefined,
        autoApprove: values['auto-approve'],
      });
    case 'prewarm':
      return prewarmCommand(deps(), io, {
        images: positionals.slice(1),
        json: values.json,
        dryRun: values['dry-run'],
        fanOut: values['fan-out'],
      });
    case 'check':
    case 'rotate':
    case 'credential': {
      if (values.wait !== undefined && !(Number(values.wait) >= 0)) {
        io.err(`cache-keeper: --wait takes a number of seconds, not "${values.wait}"`);
        return 2;
      }
      const options = {
        json: values.json,
        secret: values.secret,
        expiresAt: values['expires-at'],
        uuid: values.uuid,
        rotationLambdaArn: values['rotation-lambda-arn'],
        waitSeconds: values.wait === undefined ? undefined : Number(values.wait),
        readStdin: io.readStdin,
      };
      if (positionals[1] === 'stage' || positionals[1] === 'record') {
        const problems = credentialOptionProblems(options, Date.now());
        for (const p of problems) io.err(`cache-keeper credential ${positionals[1]}: ${p}`);
        if (problems.length) return 2;
      }
      if (command === 'check') return checkCommand(deps(), io, options);
      if (command === 'rotate') return rotateCommand(deps(), io, options);
      if (positionals[1] === 'stage') return stageCommand(deps(), io, options);
      if (positionals[1] === 'record') return recordCommand(deps(), io, options);
      if (positionals[1] === 'cleanup') return cleanupCommand(deps(), io, options);
      io.err(
        'usage: cache-keeper credential stage|record --expires-at DATE [--secret NAME] [--uuid UUID]\n       cache-keeper credential cleanup [--secret NAME]',
      );
      return 2;
    }
    case 'metrics':
      return metricsCommand(deps(), io, { json: values.json, publish: values.publish });
    case 'suggest': {
      const { suggestCommand } = await import('./commands/suggest.js');
      return suggestCommand(deps, io, {
        days: values.days,
        configLines: values['config-lines'],
        json: values.json,
        files: positionals.slice(1),
        registry: values.registry,
        config: () => loadConfig(path),
      });
    }
    case 'rewrite': {
      const { rewriteCommand } = await import('./commands/rewrite.js');
      return rewriteCommand(loadConfig(path), io, {
        files: positionals.slice(1),
        check: values.check,
        diff: values.diff,
        json: values.json,
        registry: values.registry,
        deps,
      });
    }
    case 'ci-snippet': {
      const { ciSnippetCommand } = await import('./commands/ci-snippet.js');
      return ciSnippetCommand(loadConfig(path), io, {
        system: values.for,
        registry: values.registry,
        json: values.json,
        deps,
      });
    }
    case 'mirror-config': {
      const { mirrorConfigCommand } = await import('./commands/mirror-config.js');
      return mirrorConfigCommand(loadConfig(path), io, {
        client: values.for,
        registry: values.registry,
        insecure: values.insecure,
        json: values.json,
        out: values.out,
        deps,
      });
    }
    case 'uri':
      return uriCommand(loadConfig(path), io, {
        images: positionals.slice(1),
        registry: values.registry,
        json: values.json,
        deps,
      });
    default:
      io.err(`cache-keeper: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

// Run when executed as the command (bin/cache-keeper.mjs imports this module).
if (process.argv[1] && /cache-keeper(\.mjs)?$|cli\/main\.ts$/.test(process.argv[1])) {
  runCli(process.argv.slice(2))
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      process.stderr.write(`cache-keeper: ${redactText(failureLine(error))}\n`);
      const hint = hintFor(error);
      if (hint) process.stderr.write(`  hint: ${hint}\n`);
      process.exitCode = 1;
    });
}
