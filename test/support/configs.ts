/** Config files the CLI tests share. */
import { ConfigError } from '../../lib/config/errors.js';
import { parseConfig } from '../../lib/config/load.js';

/** Two Docker Hub rules (one through the upstream prefix library/) and a Quay rule. */
export const RULES = `rules:
  - prefix: docker-hub
    upstream: docker-hub
    upstreamPrefix: library
    credentialSecret: ecr-pullthroughcache/docker-hub
  - prefix: hub-all
    upstream: docker-hub
    credentialSecret: ecr-pullthroughcache/docker-hub
  - prefix: quay
    upstream: quay
`;

/** A token expiry always ahead (1 June next year): the CLI refuses one that has passed. */
export const EXPIRES_DAY = `${new Date().getUTCFullYear() + 1}-06-01`;

/** The problems parseConfig finds in a config, as `path: message` lines (none when it loads). */
export function configProblems(yaml: string): string[] {
  try {
    parseConfig(yaml);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}
