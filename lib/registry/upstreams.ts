/**
 * Where an upstream registry is reached. Normally `https://<host>`; KEEPER_UPSTREAM_REGISTRIES
 * (`host=url,host=url`) points a host elsewhere: the sandbox's Docker Hub, or a test registry.
 */
import { EnvironmentError } from '../runtime/errors.js';

export function upstreamBaseUrl(host: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const entry of (env.KEEPER_UPSTREAM_REGISTRIES ?? '').split(',').filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 1) throw new EnvironmentError(`KEEPER_UPSTREAM_REGISTRIES: "${entry}" is not host=url`);
    if (entry.slice(0, eq).trim() === host)
      return entry
        .slice(eq + 1)
        .trim()
        .replace(/\/+$/, '');
  }
  return `https://${host}`;
}

/** Docker Hub's API (PAT management), overridable for the sandbox. */
export function dockerHubApiUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.KEEPER_DOCKERHUB_API_URL ?? 'https://hub.docker.com').replace(/\/+$/, '');
}
