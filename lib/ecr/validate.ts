/**
 * The one call of ValidatePullThroughCacheRule: ECR reads the rule's secret, checks its syntax and
 * logs in upstream. Reconcile runs it after every rule it creates or changes, rotation after moving
 * AWSCURRENT, and the daily check every day; all three read the same result.
 */
import { type ECRClient, ValidatePullThroughCacheRuleCommand } from '@aws-sdk/client-ecr';
import { awsErrorName, errorMessage, isTransientAwsError } from '../runtime/errors.js';

export interface RuleValidation {
  prefix: string;
  isValid: boolean;
  /** ECR's own failure text, or the error that kept the call from answering. */
  failure?: string;
  /** Set when the call itself failed (`PullThroughCacheRuleNotFoundException`, `AccessDeniedException`…). */
  errorName?: string;
  /** The call failed for a reason of the moment (throttling, 5xx, network): ECR said nothing of the rule. */
  transient?: boolean;
}

/**
 * Asks ECR whether the rule works. A call that fails is a validation that did not pass, with the
 * error's name, unless `strict` (reconcile: the change that needed it then fails with that error).
 */
export async function validateRule(
  ecr: ECRClient,
  prefix: string,
  options: { strict?: boolean } = {},
): Promise<RuleValidation> {
  try {
    const out = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: prefix }));
    return { prefix, isValid: out.isValid === true, ...(out.failure ? { failure: out.failure } : {}) };
  } catch (error) {
    if (options.strict) throw error;
    const name = awsErrorName(error) ?? 'Error';
    return {
      prefix,
      isValid: false,
      failure: `${name}: ${errorMessage(error)}`,
      errorName: name,
      ...(isTransientAwsError(error) ? { transient: true } : {}),
    };
  }
}

/** One line for a person: why the rule did not validate. */
export function describeValidation(v: RuleValidation): string {
  if (v.isValid) return `rule ${v.prefix}: valid`;
  if (v.errorName === 'PullThroughCacheRuleNotFoundException')
    return `rule ${v.prefix} does not exist (run reconcile)`;
  if (v.errorName) return `ValidatePullThroughCacheRule ${v.prefix}: ${v.failure ?? v.errorName}`;
  return `ECR says rule ${v.prefix} is not valid: ${v.failure ?? 'no reason given'}`;
}
