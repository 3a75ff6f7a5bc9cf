/**
 * Rows of like objects as columns, for what crosses Step Functions' 256 KiB (a night's settled
 * lines): each key once; a value many rows share stored once, with its index per row; a key only
 * some rows have, stored with the rows that have it. `unpackRows(packRows(rows))` gives the rows
 * back, keys in the order first seen (undefined values dropped, as JSON drops them).
 */

export interface PackedRows {
  count: number;
  columns: Record<string, PackedColumn>;
}

export interface PackedColumn {
  /** One per row that has the key: the value, or its index in `shared`. */
  values: unknown[];
  /** The rows that have the key, when not every row does. */
  rows?: number[];
  /** The distinct values, when rows share them. */
  shared?: unknown[];
}

export function packRows(rows: ReadonlyArray<Record<string, unknown>>): PackedRows {
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const columns: Record<string, PackedColumn> = {};
  for (const key of keys) {
    const present = rows.flatMap((row, i) => (row[key] === undefined ? [] : [i]));
    const values = present.map((i) => rows[i]![key]);
    const texts = values.map((v) => JSON.stringify(v));
    const distinct = [...new Set(texts)];
    // Shared when that saves something: at most half as many distinct values as rows.
    const shared = distinct.length * 2 <= values.length;
    const index = new Map(distinct.map((text, i) => [text, i]));
    columns[key] = {
      values: shared ? texts.map((t) => index.get(t)!) : values,
      ...(present.length < rows.length ? { rows: present } : {}),
      ...(shared ? { shared: distinct.map((t) => JSON.parse(t) as unknown) } : {}),
    };
  }
  return { count: rows.length, columns };
}

/** The rows back; throws saying which column does not fit its rows (a payload from elsewhere). */
export function unpackRows(packed: PackedRows): Array<Record<string, unknown>> {
  const rows = Array.from({ length: packed.count }, () => ({}) as Record<string, unknown>);
  for (const [key, column] of Object.entries(packed.columns)) {
    const at = column.rows ?? rows.map((_, i) => i);
    if (at.length !== column.values.length)
      throw new Error(`column ${key}: ${column.values.length} values for ${at.length} rows`);
    column.values.forEach((value, j) => {
      const row = rows[at[j]!];
      if (!row) throw new Error(`column ${key}: row ${at[j]} of ${packed.count}`);
      if (column.shared && !(typeof value === 'number' && value in column.shared))
        throw new Error(
          `column ${key}: ${JSON.stringify(value)} is not one of its ${column.shared.length} shared values`,
        );
      row[key] = column.shared ? column.shared[value as number] : value;
    });
  }
  return rows;
}
