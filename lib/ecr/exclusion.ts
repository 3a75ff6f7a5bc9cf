/**
 * The principal reconcile registers as a pull-time update exclusion: the pre-warm function's role,
 * so warming does not make unused images look recently pulled to `sinceImagePulled` lifecycle
 * rules. Worked out here only, in this order: the config's `reconcile.pullTimeExclusionRoleArn`;
 * the role ARN the deployment names; the role name it names, completed with the partition and
 * account of the calling function's own ARN (the stack knows the name before the account).
 */
import type { KeeperConfig } from '../config/load.js';

export interface PrewarmRoleSetting {
  /** KEEPER_PREWARM_ROLE_ARN */
  arn?: string;
  /** KEEPER_PREWARM_ROLE_NAME */
  name?: string;
}

export function prewarmRoleFromEnv(env: NodeJS.ProcessEnv): PrewarmRoleSetting {
  return {
    ...(env.KEEPER_PREWARM_ROLE_ARN ? { arn: env.KEEPER_PREWARM_ROLE_ARN } : {}),
    ...(env.KEEPER_PREWARM_ROLE_NAME ? { name: env.KEEPER_PREWARM_ROLE_NAME } : {}),
  };
}

export function exclusionPrincipal(
  config: KeeperConfig,
  role: PrewarmRoleSetting = {},
  ownFunctionArn?: string,
): string | undefined {
  if (config.reconcile.pullTimeExclusionRoleArn) return config.reconcile.pullTimeExclusionRoleArn;
  if (role.arn) return role.arn;
  const [, partition, , , account] = ownFunctionArn?.split(':') ?? [];
  return role.name && partition && account && /^\d{12}$/.test(account)
    ? `arn:${partition}:iam::${account}:role/${role.name}`
    : undefined;
}
