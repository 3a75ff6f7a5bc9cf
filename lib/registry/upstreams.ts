/**
 * Where the registries and Docker Hub's API are reached. Normally `https://<host>` and
 * `https://hub.docker.com`; the sandbox or a test registry stand in through `Endpoints`, which the
 * Lambda and the CLI read from KEEPER_UPSTREAM_REGISTRIES (`host=url,host=url`) and
 * KEEPER_DOCKERHUB_API_URL. Nothing below lib/ reads the environment itself.
 */
import { EnvironmentError } from '../runtime/errors.js';

export interface Endpoints {
  /** Upstream registry host → base URL, for hosts that are reached elsewhere. */
  upstreamRegistries: Readonly<Record<string, string>>;
  /** Docker Hub's API (PAT management). */
  dockerHubApi: string;
}

export const REAL_ENDPOINTS: Endpoints = { upstreamRegistries: {}, dockerHubApi: 'https://hub.docker.com' };

const trimSlash = (url: string) => url.trim().replace(/\/+$/, '');

/** Reads the endpoint overrides from an environment (the Lambda default and the CLI). */
export function endpointsFromEnv(env: NodeJS.ProcessEnv): Endpoints {
  const upstreamRegistries: Record<string, string> = {};
  for (const entry of (env.KEEPER_UPSTREAM_REGISTRIES ?? '').split(',').filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 1) throw new EnvironmentError(`KEEPER_UPSTREAM_REGISTRIES: "${entry}" is not host=url`);
    upstreamRegistries[entry.slice(0, eq).trim()] = trimSlash(entry.slice(eq + 1));
  }
  return {
    upstreamRegistries,
    dockerHubApi: trimSlash(env.KEEPER_DOCKERHUB_API_URL ?? REAL_ENDPOINTS.dockerHubApi),
  };
}

export function upstreamBaseUrl(host: string, endpoints: Endpoints = REAL_ENDPOINTS): string {
  return endpoints.upstreamRegistries[host] ?? `https://${host}`;
}
