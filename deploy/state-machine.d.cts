// Types of deploy/state-machine.cjs for the TypeScript that imports it (the local runs, the tests).
export const STATE_MACHINE_FUNCTIONS: Array<'prewarmPlan' | 'warmImage' | 'prewarmReport'>;
export const EXECUTION_TIMEOUT_SECONDS: number;
export function stateMachineDefinition(
  config: { prewarm: { fanOut: { maxConcurrency: number; imageTimeoutSeconds: number } } },
  arns: Record<'prewarmPlan' | 'warmImage' | 'prewarmReport', string>,
): Record<string, unknown> & { States: Record<string, Record<string, unknown>> };
