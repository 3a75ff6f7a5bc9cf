/**
 * The stack's roles, as IAM will hold them: each function's identity policy from the same source the
 * packaged template is built from (deploy/stack.cjs), with CloudFormation's `Fn::Sub` and `Ref`
 * resolved for the sandbox's partition, region and account.
 */
import { createRequire } from 'node:module';
import type { KeeperConfig } from '../../lib/config/load.js';
import type { PolicyDocument } from './policy.js';

const stack = createRequire(import.meta.url)('../../deploy/stack.cjs') as {
  rolePolicyDocument: (config: KeeperConfig, fn: string, service?: string, stage?: string) => unknown;
  stateMachinePolicyDocument: (service?: string, stage?: string) => unknown;
  FUNCTIONS: string[];
};

export const FUNCTIONS = stack.FUNCTIONS;

export interface Placement {
  partition: string;
  region: string;
  account: string;
}

function resolve(value: unknown, where: Placement): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, where));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['Fn::Sub'] === 'string')
      return (record['Fn::Sub'] as string).replace(/\$\{AWS::(Partition|Region|AccountId)\}/g, (_m, name) =>
        name === 'Partition' ? where.partition : name === 'Region' ? where.region : where.account,
      );
    if (typeof record.Ref === 'string')
      return `arn:${where.partition}:sns:${where.region}:${where.account}:${record.Ref}`;
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolve(v, where)]));
  }
  return value;
}

/** The identity policy of a function's role, resolved. */
export function functionPolicy(
  config: KeeperConfig,
  fn: string,
  where: Placement,
  stage = 'local',
): PolicyDocument {
  return resolve(stack.rolePolicyDocument(config, fn, 'ecr-cache-keeper', stage), where) as PolicyDocument;
}

/** The identity policy of the pre-warm state machine's role, resolved. */
export function stateMachinePolicy(where: Placement, stage = 'local'): PolicyDocument {
  return resolve(stack.stateMachinePolicyDocument('ecr-cache-keeper', stage), where) as PolicyDocument;
}

/** The role name the stack gives a function. */
export const functionRoleName = (fn: string, region: string, stage = 'local') =>
  `ecr-cache-keeper-${stage}-${fn}-${region}`;
