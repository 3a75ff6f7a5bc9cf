/** Memory: warming an image with a 200 MB layer keeps the process's peak RSS growth under 64 MB (blobs are streamed). */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('streams a 200 MB layer with less than 64 MB of RSS growth', () => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'test/integration/support/memory-probe.ts', '200'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const result = JSON.parse(out.trim().split('\n').at(-1)!);
  expect(result.status).toBe('warmed');
  expect(result.blobBytes).toBeGreaterThan(200 * 1024 * 1024);
  expect(result.growthMb).toBeLessThan(64);
}, 150_000);
