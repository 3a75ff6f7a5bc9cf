import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load.js';
import { writeResolvedConfig } from '../../../lib/config/resolved.js';
import { InvalidEventError } from '../../../lib/runtime/errors.js';
import { keeperHandler, resetContainerConfig } from '../../../lib/runtime/handler.js';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

describe('keeperHandler', () => {
  afterEach(() => {
    resetContainerConfig();
    vi.unstubAllEnvs();
  });

  it('hands the parsed event, the config and a deadline from the remaining time to the logic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keeper-unit-'));
    vi.stubEnv(
      'KEEPER_RESOLVED_CONFIG',
      writeResolvedConfig(loadConfig('keeper.config.yaml'), join(dir, 'keeper.resolved.json')),
    );
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = keeperHandler(
      'demo',
      (e) => e as { n: number },
      async (event, deps) => ({
        n: event.n,
        rules: deps.config.rules.length,
        budget: deps.deadline - Date.now(),
      }),
    );
    const result = await handler({ n: 2 }, context);
    write.mockRestore();
    expect(result.n).toBe(2);
    expect(result.rules).toBe(1);
    expect(result.budget).toBeGreaterThan(50_000);
    expect(result.budget).toBeLessThanOrEqual(60_000);
  });

  it('refuses a YAML file where the resolved config belongs, saying what to do', async () => {
    vi.stubEnv('KEEPER_RESOLVED_CONFIG', 'keeper.config.yaml');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = keeperHandler(
      'demo',
      (e) => e,
      async () => 'never',
    );
    await expect(handler({}, context)).rejects.toThrow(
      /not JSON; point KEEPER_RESOLVED_CONFIG at the file `serverless package` writes/,
    );
    vi.restoreAllMocks();
  });

  it('rejects a bad event with the named error and logs the failure without the event', async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((l) => lines.push(String(l)) > 0);
    const handler = keeperHandler(
      'demo',
      () => {
        throw new InvalidEventError('event.dryRun must be a boolean');
      },
      async () => 'never',
    );
    await expect(handler({ dryRun: 'yes' }, context)).rejects.toBeInstanceOf(InvalidEventError);
    write.mockRestore();
    const failure = lines.map((l) => JSON.parse(l)).find((e) => e.message === 'demo failed');
    expect(failure.error).toMatchObject({
      name: 'InvalidEventError',
      message: 'event.dryRun must be a boolean',
    });
  });
});
