/**
 * Reads what `npm run package` (serverless package, no AWS credentials) wrote to .serverless/.
 * `npm test` packages before it runs the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const FUNCTIONS = [
  'reconcile',
  'prewarm',
  'checkCredential',
  'rotateCredential',
  'cacheMetrics',
  'pullEvents',
];
const templatePath = '.serverless/cloudformation-template-update-stack.json';

function readTemplate() {
  if (!existsSync(templatePath))
    throw new Error(`${templatePath} is missing: run \`npm run package\` first (npm test does)`);
  return JSON.parse(readFileSync(templatePath, 'utf8'));
}

describe('packaged stack', () => {
  const template = readTemplate();
  const resources: Record<string, { Type: string; Properties: Record<string, unknown> }> = template.Resources;
  const lambdas = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

  it('has one zip per function', () => {
    for (const name of FUNCTIONS) expect(existsSync(`.serverless/${name}.zip`), name).toBe(true);
    expect(lambdas).toHaveLength(FUNCTIONS.length);
  });

  it('runs every function on Node.js 22 and arm64, the Node major the tests use', () => {
    for (const [, fn] of lambdas) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
    expect(process.versions.node.split('.')[0]).toBe('22');
  });
});
