/**
 * The principals reconcile registers as pull-time update exclusions: the roles of the functions
 * that pull through the cache to warm it (prewarm, and the nightly state machine's prewarmPlan and
 * warmImage), so warming does not make unused images look recently pulled to `sinceImagePulled`
 * lifecycle rules or to prewarm.discover. Worked out here only, in this order: the config's
 * `reconcile.pullTimeExclusionRoleArn`; the role ARNs the deployment names; the role names it
 * names, completed with the partition and account of the calling function's own ARN (the stack
 * knows the names before the account). ECR allows 100 exclusions per account.
 */
import type { KeeperConfig } from '../config/load.js';

export interface PrewarmRoleSetting {
  /** KEEPER_PREWARM_ROLE_ARN (comma-separated) */
  arns?: string[];
  /** KEEPER_PREWARM_ROLE_NAME (comma-separated) */
  names?: string[];
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

export function prewarmRoleFromEnv(env: NodeJS.ProcessEnv): PrewarmRoleSetting {
  const arns = list(env.KEEPER_PREWARM_ROLE_ARN);
  const names = list(env.KEEPER_PREWARM_ROLE_NAME);
  return { ...(arns.length ? { arns } : {}), ...(names.length ? { names } : {}) };
}

export function exclusionPrincipals(
  config: KeeperConfig,
  role: PrewarmRoleSetting = {},
  ownFunctionArn?: string,
): string[] {
  if (config.reconcile.pullTimeExclusionRoleArn) return [config.reconcile.pullTimeExclusionRoleArn];
  if (role.arns?.length) return role.arns;
  const [, partition, , , account] = ownFunctionArn?.split(':') ?? [];
  if (!role.names?.length || !partition || !account || !/^\d{12}$/.test(account)) return [];
  return role.names.map((name) => `arn:${partition}:iam::${account}:role/${name}`);
}
