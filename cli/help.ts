/** Each command's own help, with examples, and the exit codes in one table. */
export const EXIT_CODES = `exit codes:
  0  done (plan: also with changes, unless --detailed-exitcode)
  1  done, but something is wrong: a problem in the plan, a change that failed, an invalid token,
     a failed image, a refused rotation, another pre-warm holding the lease
  2  the command line is wrong (unknown command or option, bad value); plan --detailed-exitcode: changes
  3  rotate / credential stage: the rotation is still in progress after --wait`;

export const COMMAND_HELP: Record<string, string> = {
  validate: `usage: cache-keeper validate [--config FILE] [--json]

Checks keeper.config.yaml (every problem at once, with its path) and prints the desired state.

  cache-keeper validate
  cache-keeper validate --config staging.yaml --json | jq '.rules'`,
  plan: `usage: cache-keeper plan [--config FILE] [--json] [--detailed-exitcode] [-out FILE]

Shows what reconcile would change, in terraform's manner (+ create, ~ change, -/+ replace,
- destroy), with a summary line. Writes nothing.

  cache-keeper plan
  cache-keeper plan --detailed-exitcode   # 0 no changes, 2 changes, 1 a problem
  cache-keeper plan --json | jq '.plan.changes[] | {kind, target, diffs}'
  cache-keeper plan -out tonight.plan && cache-keeper apply tonight.plan`,
  apply: `usage: cache-keeper apply [FILE] [--auto-approve] [--config FILE] [--json]

Reconciles pull-through cache rules, creation templates, lifecycle policies and (with access:)
the registry's and the cache repositories' access statements to the config, in order (rules,
templates and the registry policy, back-fill), stopping at the first failure. With FILE (from
\`plan -out FILE\`) it applies exactly that plan, and refuses when the account or the config
changed since. Without it, it shows the plan and asks on a terminal; not on a terminal it never
asks and needs --auto-approve.

  cache-keeper apply
  cache-keeper plan -out tonight.plan && cache-keeper apply tonight.plan
  cache-keeper apply --auto-approve      # in CI`,
  prewarm: `usage: cache-keeper prewarm [IMAGE...] [--dry-run | --fan-out] [--config FILE] [--json]

Pulls the configured (or the given) images through the cache, spending Docker Hub pulls only on
images that are new or moved upstream. Refuses to start while another run holds the lease.

With --dry-run, only the free checks (what the cache holds, a HEAD upstream): which images would be
pulled, how many Docker Hub pulls that spends, and what the reserve and budget allow. Nothing is
pulled.

With --fan-out, the night runs as the deployed stack runs it every night: the state machine's own
definition (plan, one warmImage per image to pull, report), executed here with this command's
credentials; a night with no more than prewarm.fanOut.minImages images to pull is warmed by the
plan step alone. Same report.

  cache-keeper prewarm --dry-run
  cache-keeper prewarm
  cache-keeper prewarm --fan-out
  cache-keeper prewarm node:22-alpine python:3.13-slim --json`,
  check: `usage: cache-keeper check [--secret NAME] [--config FILE] [--json]

Is each Docker Hub token valid (upstream login, ECR's validation), how many days has it left,
and (managed rotation) can the admin credential log in. Changes nothing. Every credential secret
the rules use; with --secret, that one only.

  cache-keeper check`,
  rotate: `usage: cache-keeper rotate [--secret NAME] [--rotation-lambda-arn ARN] [--wait SECONDS]

Starts a rotation of the credential secret (Secrets Manager calls rotateCredential) and follows it
until it succeeds (exit 0), is refused (1) or --wait (default 120 s) passes (3).

  cache-keeper rotate --wait 300`,
  credential: `usage: cache-keeper credential stage|record|cleanup [options]

  stage    --expires-at YYYY-MM-DD [--uuid UUID] [--wait SECONDS]
           stage a new token read from standard input, then rotate to it and follow the rotation
  record   --expires-at YYYY-MM-DD [--uuid UUID]
           record the expiry (and uuid) of the token already in the secret, for the daily check
  cleanup  delete the Docker Hub tokens rotations retired (after their grace period) and strays
           left by aborted rotations; says what it deleted and what it keeps

  printf %s "$NEW_PAT" | cache-keeper credential stage --expires-at 2027-06-01
  cache-keeper credential record --expires-at 2027-06-01 --uuid 1b2c…
  cache-keeper credential cleanup --json`,
  metrics: `usage: cache-keeper metrics [--publish] [--config FILE] [--json]

Cache size, images, stale images and estimated cost; --publish also sends them to CloudWatch.

  cache-keeper metrics --json | jq '.total'`,
  uri: `usage: cache-keeper uri IMAGE... [--registry HOST]

Prints the reference CI should pull instead of the upstream one (Docker Hub's, or that of any
registry a rule caches), through the first rule in the config that caches it. A pinned digest is
kept, with a note on stderr: an image not yet in the cache cannot be pulled through it by digest,
so pre-warm its tag.

  cache-keeper uri node:22-alpine
  cache-keeper uri node:22 --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
  suggest: `usage: cache-keeper suggest [--days N] [--config-lines] [--json]
       cache-keeper suggest FILE|DIRECTORY... [--registry HOST] [--config-lines] [--json]

Reads ECR's record of pulls (lastRecordedPullTime) under every rule's prefix and lists the tags
something pulled within N days (default 7) that are not on prewarm.images, and the listed images
nobody pulled within N days. Pulls by the pre-warm role do not count once reconcile has registered
it as a pull-time update exclusion. ECR refreshes the recorded time at least once a day.

Given files or directories (what rewrite reads), it reads them instead, with no AWS: the
images they pull through the rules that prewarm.images does not list, where each is pulled, and
the references it cannot list as written (a variable tag, a digest alone). References rewrite
already pointed at the cache count too: the cache's host is --registry, else the one ECR host the
files name. Exits 1 when a file does not parse.

Examples:
  cache-keeper suggest
  cache-keeper suggest --days 30 --config-lines
  cache-keeper suggest . --config-lines`,
  rewrite: `usage: cache-keeper rewrite FILE|DIRECTORY... [--check | --diff] [--registry HOST] [--json]

Rewrites image references to the cache's, in place: FROM node:22 becomes
FROM <registry>/docker-hub/library/node:22, and so for every registry a rule caches (through the
first rule in the config that caches the reference). Reads Dockerfiles (FROM, COPY --from,
RUN --mount=from, ONBUILD, # syntax=), YAML as YAML (image: in compose, Kubernetes and CI files,
GitHub Actions container: and services, Azure Pipelines container:, GitLab image: and services:,
Bitbucket image objects, kustomize newName, Helm values with registry: and repository:), JSON (ECS task
definitions, dev containers), CloudFormation (ECS and Batch Image:) and Jenkinsfiles (a docker
agent's image, docker.image('…'); a caution where Jenkins would pull without the cache's
credentials; the short agent form docker '…' is left: it takes none). Tags (variables too),
digests, --platform, stage names, comments and layout are kept; text in a script block is never
touched. A FROM that names an ARG set before the first FROM has the ARG's default rewritten; an
alias (image: *node) has its anchor's value rewritten where it is set. Where the CI system pulls an
image before any login in the job can run (GitHub Actions job containers and services, GitLab's
runner, CircleCI docker executors, Buildkite's docker plugin, Bitbucket and Azure Pipelines images,
Jenkins docker agents), a rewritten image without the credentials that system takes gets a
caution saying what to add (ci-snippet shows it for the systems it knows).
Left alone, each with a "left" note on stderr: scratch, build stages, other references whose name
is a variable, template expressions (\${{ }}, {{ }}), Helm images without registry: (the note
says what to set), values it does not read as a reference, the image: a compose service with
build: or a skaffold artifact builds, registries (or repositories) no rule caches, and a file that
does not parse (the note names the line; the command then exits 1). A reference pinned by digest
is rewritten with a "note": pre-warm its tag. Running it twice changes nothing. Every file is
checked before any is written.

A directory is walked (in a git work tree, the files git tracks or would: not what .gitignore
excludes; never node_modules or vendor): its Dockerfiles and Jenkinsfiles, and the YAML and JSON
that are compose, CI, Kubernetes, Helm, kustomize, skaffold, dev container, ECS or CloudFormation
files by name, place or content. Other YAML and JSON is passed over, counted on stderr: an image:
key in an application's own data is not a container's. Name such a file to read it.

  --check   write nothing; exit 1 when a file would change (a CI gate)
  --diff    write nothing; print a unified diff

Examples:
  cache-keeper rewrite Dockerfile docker-compose.yml --diff
  cache-keeper rewrite . --check`,
  'ci-snippet': `usage: cache-keeper ci-snippet --for github-actions|gitlab|buildkite|circleci|bitbucket|jenkins|azure-pipelines|iam-policy [--registry HOST] [--json]

Prints the CI steps that log in to the cache's registry and pull through it, for the account and
region of the registry host, with the IAM actions the CI role needs. --for iam-policy prints that
role's identity policy as JSON: log in, pull, and make the cache fetch an image it does not hold
yet, on every rule's prefix. A role in another account needs it too, beside the cache's access:.

Examples:
  cache-keeper ci-snippet --for github-actions
  cache-keeper ci-snippet --for gitlab --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com
  cache-keeper ci-snippet --for iam-policy > ci-pull-policy.json`,
  'mirror-config': `usage: cache-keeper mirror-config --for containers|containerd|buildkit|docker [--registry HOST] [--out DIR] [--json]

Prints the configuration that makes a client pull images through the cache while they keep their
names (docker.io/library/node:22, quay.io/…, registry.k8s.io/…), so Dockerfiles and manifests need
no change. Every registry a rule caches whole is mirrored to <registry>/<rule prefix>; one only
prefixed rules cover (upstreamPrefix) is not, with why (a mirror sends every repository):
  containers   registries.conf for podman, buildah, skopeo and CRI-O; merge it into
               /etc/containers/registries.conf
  containerd   hosts.toml for containerd, nerdctl and the Kubernetes CRI, one per registry, installed
               as /etc/containerd/certs.d/<registry>/hosts.toml (the CRI's config_path);
               --out DIR writes each as DIR/<registry>/hosts.toml
  buildkit     buildkitd.toml: a mirror per registry with the prefix as its path (docker buildx, buildkitd)
  docker       Docker Engine cannot mirror to a prefix: says why, and what to do instead

The client still needs ECR credentials for the registry host: \`aws ecr get-login-password\` piped
to \`podman login --username AWS --password-stdin HOST\`, or the ECR credential helper.

Examples:
  cache-keeper mirror-config --for containers > /etc/containers/registries.conf.d/ecr-cache.conf
  cache-keeper mirror-config --for containerd --out /etc/containerd/certs.d
  cache-keeper mirror-config --for containers --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
  cycle: `usage: cache-keeper cycle [--json [FILE]]

Boots the local sandbox and runs the nightly cycle end to end through the real handlers (what
npm start runs). No AWS, no Docker Hub.

  --json        print the result as JSON instead of the summary
  --json FILE   write the result as JSON to FILE and print the summary

Examples:
  npm start -- --json report.json && jq .ok report.json
  npm start --silent -- --json | jq .ok      # --silent: without npm's banner on stdout`,
};

/** Dates are ISO 8601 only (YYYY-MM-DD, or a full timestamp): 01/06/2027 means different days to different people. */
export function isoDate(text: string | undefined): string | undefined {
  if (!isoShaped(text) || !isCalendarDay(text)) return undefined;
  const time = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** YYYY-MM-DD, or a full timestamp with its offset. */
export const isoShaped = (text: string | undefined): text is string =>
  text !== undefined &&
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/.test(text);

/** Whether the text's YYYY-MM-DD is a day of the calendar (Date.parse moves 2027-02-30 to 2 March). */
export function isCalendarDay(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCFullYear() === year && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}
