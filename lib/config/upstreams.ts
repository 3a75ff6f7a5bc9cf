/**
 * The upstream registries ECR pull-through cache supports, and what each needs:
 * a Secrets Manager credential, a custom IAM role (ECR to ECR), or nothing.
 */
export const UPSTREAM_KINDS = [
  'docker-hub',
  'ecr-public',
  'quay',
  'k8s',
  'ghcr',
  'gitlab',
  'azure',
  'chainguard',
  'ecr',
] as const;

export type UpstreamKind = (typeof UPSTREAM_KINDS)[number];

export interface UpstreamInfo {
  /** The `upstreamRegistry` enum value of the ECR API. */
  apiName: string;
  /** Fixed upstream URL, or undefined where the user must give one (Azure, ECR). */
  defaultUrl?: string;
  /** Pattern a user-given URL must match. */
  urlPattern: RegExp;
  auth: 'secret' | 'role' | 'none';
  example: string;
}

export const UPSTREAMS: Record<UpstreamKind, UpstreamInfo> = {
  'docker-hub': {
    apiName: 'docker-hub',
    defaultUrl: 'registry-1.docker.io',
    urlPattern: /^registry-1\.docker\.io$/,
    auth: 'secret',
    example: 'registry-1.docker.io',
  },
  'ecr-public': {
    apiName: 'ecr-public',
    defaultUrl: 'public.ecr.aws',
    urlPattern: /^public\.ecr\.aws$/,
    auth: 'none',
    example: 'public.ecr.aws',
  },
  quay: {
    apiName: 'quay',
    defaultUrl: 'quay.io',
    urlPattern: /^quay\.io$/,
    auth: 'none',
    example: 'quay.io',
  },
  k8s: {
    apiName: 'k8s',
    defaultUrl: 'registry.k8s.io',
    urlPattern: /^registry\.k8s\.io$/,
    auth: 'none',
    example: 'registry.k8s.io',
  },
  ghcr: {
    apiName: 'github-container-registry',
    defaultUrl: 'ghcr.io',
    urlPattern: /^ghcr\.io$/,
    auth: 'secret',
    example: 'ghcr.io',
  },
  gitlab: {
    apiName: 'gitlab-container-registry',
    defaultUrl: 'registry.gitlab.com',
    urlPattern: /^registry\.gitlab\.com$/,
    auth: 'secret',
    example: 'registry.gitlab.com',
  },
  azure: {
    apiName: 'azure-container-registry',
    urlPattern: /^[a-z0-9]{5,50}\.azurecr\.io$/,
    auth: 'secret',
    example: 'myregistry.azurecr.io',
  },
  chainguard: {
    apiName: 'chainguard',
    defaultUrl: 'cgr.dev',
    urlPattern: /^cgr\.dev$/,
    auth: 'secret',
    example: 'cgr.dev',
  },
  ecr: {
    apiName: 'ecr',
    urlPattern: /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/,
    auth: 'role',
    example: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
  },
};

/** The registry host people write in `docker pull` for an upstream, when it differs from the API URL. */
export function pullHostsFor(kind: UpstreamKind, url: string): string[] {
  return kind === 'docker-hub' ? ['docker.io', 'registry-1.docker.io', 'index.docker.io'] : [url];
}
