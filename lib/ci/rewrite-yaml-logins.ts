/**
 * Who pulls an image before any login in the job can run, by CI system, and what it takes instead:
 * a caution for each such image `rewrite` pointed at the cache without it. Each takes the YAML
 * document and `caution(image, note)`, which notes the image only if it was rewritten.
 */
import { type Document, isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { entry, imagePairs, isBitbucketPipelines, keyName } from './yaml-nodes.js';

/** Notes `note` on `image` when the rewrite pointed it at the cache. */
export type Caution = (image: unknown, note: string) => void;

/** Every caution the document's CI system calls for. */
export function loginCautions(doc: Document, caution: Caution, registryHost: string): void {
  githubJobContainers(doc, caution);
  circleciExecutors(doc, caution);
  buildkiteDockerPlugins(doc, caution, registryHost);
  bitbucketImages(doc, caution);
  azureContainers(doc, caution);
}

/**
 * A GitHub Actions job's `container:` and `services:` pointed at the cache: the runner pulls them
 * before the job's steps, so a login step comes too late. Without `credentials:`, a caution.
 */
function githubJobContainers(doc: Document, caution: Caution): void {
  const jobs = isMap(doc.contents) ? entry(doc.contents, 'jobs') : undefined;
  if (!isMap(jobs)) return;
  for (const { value: job } of jobs.items) {
    if (!isMap(job) || entry(job, 'runs-on') === undefined) continue;
    const container = entry(job, 'container');
    const services = entry(job, 'services');
    const pulled = [container, ...(isMap(services) ? services.items.map((p) => p.value) : [])];
    for (const spec of pulled) {
      const image = isMap(spec) ? entry(spec, 'image') : spec;
      if (!isScalar(image) || typeof image.value !== 'string') continue;
      if (isMap(spec) && entry(spec, 'credentials') !== undefined) continue;
      caution(
        image,
        "the runner pulls a job's container and services before its steps, so a login step comes too late: give it credentials: from a login job before it (cache-keeper ci-snippet --for github-actions)",
      );
    }
  }
}

/**
 * CircleCI pulls a docker executor's images (a job's `docker:`, or an executor's) before the job's
 * steps, with each image's own `aws_auth:` or `auth:`: without either, one pointed at the cache
 * is a caution.
 */
function circleciExecutors(doc: Document, caution: Caution): void {
  const top = doc.contents;
  if (!isMap(top) || entry(top, 'version') === undefined) return;
  for (const section of ['jobs', 'executors']) {
    const holders = entry(top, section);
    if (!isMap(holders)) continue;
    for (const { value: holder } of holders.items) {
      const docker = isMap(holder) ? entry(holder, 'docker') : undefined;
      if (!isSeq(docker)) continue;
      for (const item of docker.items) {
        if (!isMap(item) || entry(item, 'aws_auth') !== undefined || entry(item, 'auth') !== undefined)
          continue;
        caution(
          entry(item, 'image'),
          "CircleCI pulls a docker executor's images before the job's steps, so a login step comes too late: give this image aws_auth: (oidc_role_arn: a role that may pull through the cache; cache-keeper ci-snippet --for circleci)",
        );
      }
    }
  }
}

/**
 * Buildkite's docker plugin pulls its `image:` in its command hook, after the step's plugins have
 * run their pre-command hooks (the ecr plugin logs in there) and not from inside the step's
 * command: a step whose docker image the walk pointed at the cache, without the ecr plugin, is a
 * caution.
 */
function buildkiteDockerPlugins(doc: Document, caution: Caution, registryHost: string): void {
  const steps = isMap(doc.contents) ? entry(doc.contents, 'steps') : undefined;
  if (!isSeq(steps)) return;
  const plugin = (item: unknown, name: string): unknown => {
    const key =
      isMap(item) && item.items.length === 1 ? keyName(item.items[0]!) : isScalar(item) ? item.value : '';
    if (typeof key !== 'string' || !new RegExp(`(^|/)${name}(-buildkite-plugin)?(\\.git)?(#|$)`).test(key))
      return;
    return isMap(item) ? (item.items[0]!.value ?? null) : null;
  };
  const visitSteps = (list: YAMLSeq): void => {
    for (const step of list.items) {
      if (!isMap(step)) continue;
      const group = entry(step, 'steps');
      if (isSeq(group)) visitSteps(group);
      const plugins = entry(step, 'plugins');
      if (!isSeq(plugins) || plugins.items.some((p) => plugin(p, 'ecr') !== undefined)) continue;
      for (const item of plugins.items) {
        const docker = plugin(item, 'docker');
        if (isMap(docker))
          caution(
            entry(docker, 'image'),
            `Buildkite's docker plugin pulls its image before the step's command runs, so a docker login there comes too late: add the ecr plugin to the step (cache-keeper ci-snippet --for buildkite), or give the agent the ECR credential helper for ${registryHost}`,
          );
      }
    }
  };
  visitSteps(steps);
}

/**
 * Bitbucket Pipelines pulls a step's and a service's image with the credentials written beside
 * it (`aws:` for ECR): one the walk pointed at the cache without `aws:` is a caution.
 */
function bitbucketImages(doc: Document, caution: Caution): void {
  if (!isBitbucketPipelines(doc)) return;
  const note =
    'Bitbucket Pipelines pulls this image with the credentials written beside it: make it image: { name: <this reference>, aws: { oidc-role: <a role that may pull through the cache> } } (oidc: true on the step; cache-keeper ci-snippet --for bitbucket), or aws: access-key and secret-key';
  for (const { value } of imagePairs(doc.contents)) {
    if (isMap(value)) {
      if (entry(value, 'aws') === undefined) caution(entry(value, 'name'), note);
    } else caution(value, note);
  }
}

/**
 * Azure Pipelines pulls a container job's image (a job's `container:`, a container resource's
 * `image:`) before the job's steps, with the service connection its `endpoint:` names: one the
 * walk pointed at the cache is a caution, with or without an endpoint (ECR's passwords last 12
 * hours; an endpoint there was made for the image's old registry).
 */
function azureContainers(doc: Document, caution: Caution): void {
  const top = doc.contents;
  if (!isMap(top)) return;
  const note =
    "Azure Pipelines pulls a container job's image before its steps, with the service connection its endpoint: names, and an ECR password lasts 12 hours (a Docker Registry connection with a fixed one soon fails): run the job on a self-hosted agent whose Docker has the ECR credential helper, or pull the image in a step after logging in (cache-keeper ci-snippet --for azure-pipelines)";
  const resources = entry(top, 'resources');
  const containers = isMap(resources) ? entry(resources, 'containers') : undefined;
  if (isSeq(containers))
    for (const item of containers.items)
      if (isMap(item) && entry(item, 'container') !== undefined) caution(entry(item, 'image'), note);
  const stages = entry(top, 'stages');
  const jobLists = [
    entry(top, 'jobs'),
    ...(isSeq(stages) ? stages.items.map((stage) => (isMap(stage) ? entry(stage, 'jobs') : undefined)) : []),
  ];
  const jobs: YAMLMap[] = [];
  for (const list of jobLists)
    if (isSeq(list))
      for (const job of list.items)
        if (isMap(job) && (entry(job, 'job') !== undefined || entry(job, 'deployment') !== undefined))
          jobs.push(job);
  // A pipeline of one job: its container:, pool: and steps: at the top.
  if (entry(top, 'steps') !== undefined || entry(top, 'pool') !== undefined) jobs.push(top);
  for (const job of jobs) {
    const container = entry(job, 'container');
    caution(isMap(container) ? entry(container, 'image') : container, note);
  }
}
