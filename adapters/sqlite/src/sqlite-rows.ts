/**
 * Rows written by one multi-row `INSERT`. One statement per row costs a call into SQLite and a
 * statement journal each; 64 rows of at most 12 parameters stay far under SQLite's 32,766.
 */
export const rowsPerInsert = 64;

/** `(?, ?, ...), (?, ?, ...)`: the `VALUES` list of `rows` rows of `columns` parameters. */
export function valuesList(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}
