/** Rows as columns for the night's payload: they come back as they went, and smaller. */
import { describe, expect, it } from 'vitest';
import { packRows, unpackRows } from '../../../lib/prewarm/packed-rows.js';

describe('packRows and unpackRows', () => {
  it.each<[string, Array<Record<string, unknown>>]>([
    ['no rows', []],
    ['one row', [{ a: 1, b: 'x' }]],
    [
      'a key only some rows have, values of every JSON kind',
      [
        { status: 'skipped', n: 0, nested: { count: 2 }, list: ['a'], flag: false, nothing: null },
        { status: 'failed', step: 'upstream-check', n: 3 },
        { status: 'skipped', n: 0 },
      ],
    ],
    ['many rows sharing values', Array.from({ length: 50 }, (_, i) => ({ s: i % 2 ? 'odd' : 'even', i }))],
  ])('%s come back as they went', (_case, rows) => {
    const packed = JSON.parse(JSON.stringify(packRows(rows)));
    expect(unpackRows(packed)).toEqual(rows);
  });

  it('stores a shared value once, and a rare key only with the rows that have it', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({
      reason: 'unchanged; layers verified by the run of 2026-11-28T02:30:12.345Z',
      ...(i === 7 ? { step: 'pull-blobs' } : {}),
    }));
    const packed = packRows(rows);
    expect(packed.columns.reason).toEqual({ values: Array(100).fill(0), shared: [rows[0]!.reason] });
    expect(packed.columns.step).toEqual({ values: ['pull-blobs'], rows: [7] });
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(rows).length / 10);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'fewer values than rows',
      { count: 2, columns: { a: { values: [1] } } },
      /column a: 1 values for 2 rows/,
    ],
    ['a row past the end', { count: 1, columns: { a: { values: [1], rows: [3] } } }, /column a: row 3 of 1/],
    [
      'an index with no shared value',
      { count: 1, columns: { a: { values: [4], shared: ['x'] } } },
      /column a: 4 is not one of its 1 shared values/,
    ],
  ])('refuses %s, naming the column', (_case, packed, message) => {
    expect(() => unpackRows(packed as never)).toThrow(message);
  });
});
