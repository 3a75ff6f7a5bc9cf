/** The alarms `serverless package` put in the stack's template, as the sandbox's CloudWatch evaluates them. */
import { existsSync, readFileSync } from 'node:fs';
import type { AlarmProperties } from '../../../sandbox/aws/cloudwatch.js';

/** The alarms `serverless package` put in the stack's template (npm test packages first). */
export function deployedAlarms(): Array<AlarmProperties & { MetricName: string }> {
  const template = '.serverless/cloudformation-template-update-stack.json';
  if (!existsSync(template))
    throw new Error(`${template} is missing: run \`npm run package\` first (npm test does)`);
  const resources: Record<string, { Type: string; Properties: AlarmProperties & { MetricName: string } }> =
    JSON.parse(readFileSync(template, 'utf8')).Resources;
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties);
}
