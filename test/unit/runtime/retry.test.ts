import { describe, expect, it, vi } from 'vitest';
import { mapConcurrent, retry, slots, withTimeout } from '../../../lib/runtime/retry.js';

describe('retry', () => {
  it('retries retryable errors with capped, jittered, growing delays', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 4) throw new Error('flaky');
        return 'ok';
      },
      {
        attempts: 5,
        baseDelayMs: 100,
        maxDelayMs: 250,
        retryable: () => true,
        random: () => 1,
        sleep: async (ms) => void delays.push(ms),
      },
    );
    expect(result).toBe('ok');
    expect(delays).toEqual([100, 200, 250]);
  });

  it('does not retry what the caller marks as final', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('401');
        },
        { retryable: () => false, sleep: async () => {} },
      ),
    ).rejects.toThrow('401');
    expect(calls).toBe(1);
  });

  it('gives up after the attempts are spent', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('500');
        },
        { attempts: 3, retryable: () => true, sleep: async () => {} },
      ),
    ).rejects.toThrow('500');
    expect(calls).toBe(3);
  });

  it('starts no attempt past the deadline', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('slow');
        },
        {
          attempts: 10,
          baseDelayMs: 1000,
          random: () => 1,
          deadline: Date.now() + 10,
          retryable: () => true,
          sleep: async () => {},
        },
      ),
    ).rejects.toThrow('slow');
    expect(calls).toBe(1);
  });
});

describe('mapConcurrent', () => {
  it('keeps order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});

describe('withTimeout', () => {
  it('gives the work’s result when it comes first, and a KeeperError naming what took too long otherwise', async () => {
    vi.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve(7), 1000, 'discovery')).resolves.toBe(7);
      const slow = withTimeout(new Promise(() => {}), 1000, 'discovery');
      const settled = expect(slow).rejects.toThrow(/^discovery took longer than 1000 ms$/);
      await vi.advanceTimersByTimeAsync(1000);
      await settled;
      await expect(withTimeout(Promise.reject(new Error('denied')), 1000, 'discovery')).rejects.toThrow(
        'denied',
      );
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('slots', () => {
  it('holds at most the limit, hands slots over in arrival order, and a double release frees one slot', async () => {
    const pool = slots(2);
    const order: string[] = [];
    const a = await pool.acquire();
    const b = await pool.acquire();
    const c = pool.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = pool.acquire().then((release) => {
      order.push('d');
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]); // both slots taken
    a();
    a(); // a second release of the same slot changes nothing
    const releaseC = await c;
    await Promise.resolve();
    expect(order).toEqual(['c']);
    b();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    releaseD();
    // Both free again: two acquire at once.
    await Promise.all([pool.acquire(), pool.acquire()]);
  });
});
