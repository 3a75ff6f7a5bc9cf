/** Config files the CLI tests share. */
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
