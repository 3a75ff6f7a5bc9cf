import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load.js';
import { readResolvedConfig, writeResolvedConfig } from '../../../lib/config/resolved.js';
import { createRuntime } from '../../../lib/runtime/deps.js';
import { InvalidEventError } from '../../../lib/runtime/errors.js';
import { keeperHandler } from '../../../lib/runtime/handler.js';
import { lambdaEntry } from '../../../lib/runtime/lambda.js';
import { createLogger, memorySink } from '../../../lib/runtime/logger.js';
import { lambdaContext } from '../../support/lambda.js';

const context = lambdaContext('demo', { requestId: 'req-1', remainingMs: 60_000 });

describe('keeperHandler', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('hands the parsed event, the config and a deadline from the remaining time to the logic', async () => {
    const sink = memorySink();
    const runtime = createRuntime(loadConfig('keeper.config.yaml'), { logger: createLogger({ sink }) });
    const handler = keeperHandler(
      'demo',
      (e) => e as { n: number },
      async (event, deps) => ({
        n: event.n,
        rules: deps.config.rules.length,
        budget: deps.deadline - Date.now(),
      }),
    )(runtime);
    const result = await handler({ n: 2 }, context);
    expect(result.n).toBe(2);
    expect(result.rules).toBe(1);
    expect(result.budget).toBeGreaterThan(50_000);
    expect(result.budget).toBeLessThanOrEqual(60_000);
    expect(sink.entries.map((e) => [e.message, e.function, e.requestId])).toEqual([
      ['demo started', 'demo', 'req-1'],
      ['demo finished', 'demo', 'req-1'],
    ]);
  });

  it('refuses a YAML file where the resolved config belongs, saying what to do', async () => {
    vi.stubEnv('KEEPER_RESOLVED_CONFIG', 'keeper.config.yaml');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = lambdaEntry(
      'demo',
      keeperHandler(
        'demo',
        (e) => e,
        async () => 'never',
      ),
      () => ({}),
    );
    await expect(handler({}, context)).rejects.toThrow(
      /not JSON; point KEEPER_RESOLVED_CONFIG at the file `serverless package` writes/,
    );
  });

  it('refuses a resolved config an earlier version wrote (images without their upstream prefix), saying what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-resolved-'));
    const path = join(dir, 'keeper.resolved.json');
    writeFileSync(
      path,
      JSON.stringify({ kind: 'ecr-cache-keeper/resolved-config', version: 1, config: { rules: [] } }),
    );
    expect(() => readResolvedConfig(path)).toThrow(
      /written by another version .*version 1.*run `serverless package` again/,
    );
  });

  it('the Lambda default reads the resolved config once per container', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1'); // Lambda always sets it
    const dir = mkdtempSync(join(tmpdir(), 'keeper-unit-'));
    vi.stubEnv(
      'KEEPER_RESOLVED_CONFIG',
      writeResolvedConfig(loadConfig('keeper.config.yaml'), join(dir, 'keeper.resolved.json')),
    );
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let built = 0;
    const handler = lambdaEntry(
      'demo',
      keeperHandler(
        'demo',
        (e) => e,
        async (_e, deps) => deps.config.rules.length,
      ),
      () => {
        built++;
        return {};
      },
    );
    expect(await handler({}, context)).toBe(1);
    vi.stubEnv('KEEPER_RESOLVED_CONFIG', 'no-such-file.json');
    expect(await handler({}, context)).toBe(1);
    expect(built).toBe(1);
  });

  it('rejects a bad event with the named error and logs the failure without the event', async () => {
    const sink = memorySink();
    const handler = keeperHandler(
      'demo',
      () => {
        throw new InvalidEventError('event.dryRun must be a boolean');
      },
      async () => 'never',
    )(createRuntime(loadConfig('keeper.config.yaml'), { logger: createLogger({ sink }) }));
    await expect(handler({ dryRun: 'yes' }, context)).rejects.toBeInstanceOf(InvalidEventError);
    const failure = sink.entries.find((e) => e.message === 'demo failed')!;
    expect(failure.error).toMatchObject({
      name: 'InvalidEventError',
      message: 'event.dryRun must be a boolean',
    });
    expect(JSON.stringify(sink.entries)).not.toContain('"yes"');
  });
});
