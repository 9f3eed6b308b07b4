// A model of the documented `filters_json` language of Databricks Vector Search standard
// endpoints, NOT the service: the keys of a document are ANDed; `"col": value` is equality and
// `"col": [values]` is membership; `"col <"`, `"col <="`, `"col >"`, `"col >="` compare numbers;
// `"col LIKE": pattern` with `%` wildcards is SQL LIKE on a string column (the guide's "JSON
// pattern LIKE"); a null or missing column matches nothing.

/** Whether the `filters_json` document selects `row`, per the model. */
export function databricksFilterSelects(
  document: Record<string, unknown>,
  row: Record<string, unknown>,
): boolean {
  return Object.entries(document).every(([key, operand]) => {
    const [column, operator] = key.split(' ') as [string, string | undefined];
    const stored = row[column];
    if (stored === null || stored === undefined) return false;
    if (operator === 'LIKE') {
      if (typeof stored !== 'string' || typeof operand !== 'string') return false;
      const pattern = operand
        .split('%')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('_', '.'))
        .join('.*');
      return new RegExp(`^${pattern}$`, 's').test(stored);
    }
    if (operator === undefined) {
      return Array.isArray(operand) ? operand.includes(stored) : stored === operand;
    }
    if (typeof stored !== 'number' || typeof operand !== 'number') {
      throw new Error(`model: ${key} compares numbers only`);
    }
    if (operator === '<') return stored < operand;
    if (operator === '<=') return stored <= operand;
    if (operator === '>') return stored > operand;
    if (operator === '>=') return stored >= operand;
    throw new Error(`model: unknown operator in ${key}`);
  });
}
