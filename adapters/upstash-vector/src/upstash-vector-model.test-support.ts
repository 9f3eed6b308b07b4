// A model of the slice of Upstash Vector's SQL-like metadata filter language this adapter sends,
// written from its filtering documentation (=, !=, <, <=, >, >=, CONTAINS, NOT CONTAINS, HAS
// FIELD, HAS NOT FIELD, AND, OR, parentheses; dotted keys); NOT Upstash. The documentation does
// not say what a comparison or a negated operator does on a missing key, so `missingMatches`
// chooses, and the translation must give the same answer either way.

/** How the model treats operators on a key the metadata lacks. */
export interface UpstashFilterSemantics {
  /** Whether `!=`, `NOT CONTAINS` (and ranges) match when the key is missing. */
  missingMatches: boolean;
}

type Literal = string | number | boolean;

function tokenize(text: string): string[] {
  const tokens = text.match(/'[^']*'|\(|\)|[^\s()]+/g);
  if (!tokens) throw new Error('model: empty filter');
  return tokens;
}

function read(metadata: Record<string, unknown>, key: string): unknown {
  let current: unknown = metadata;
  for (const part of key.split('.')) {
    if (current == null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function literal(token: string): Literal {
  if (token.startsWith("'")) return token.slice(1, -1);
  if (token === 'true' || token === 'false') return token === 'true';
  const number = Number(token);
  if (Number.isNaN(number)) throw new Error(`model: bad literal ${token}`);
  return number;
}

/** Whether `filter` selects `metadata`, per the model. */
export function upstashFilterSelects(
  filter: string,
  metadata: Record<string, unknown>,
  semantics: UpstashFilterSemantics,
): boolean {
  const tokens = tokenize(filter);
  let position = 0;
  const next = () => {
    const token = tokens[position++];
    if (token === undefined) throw new Error('model: unexpected end');
    return token;
  };

  function primary(): boolean {
    const token = next();
    if (token === '(') {
      const value = disjunction();
      if (next() !== ')') throw new Error('model: expected )');
      return value;
    }
    if (token === 'HAS') {
      const negated = tokens[position] === 'NOT';
      if (negated) position++;
      if (next() !== 'FIELD') throw new Error('model: expected FIELD');
      const present = read(metadata, next()) !== undefined;
      return negated ? !present : present;
    }
    const key = token;
    const actual = read(metadata, key);
    let operator = next();
    if (operator === 'NOT') operator = `NOT ${next()}`;
    const expected = literal(next());
    if (actual === undefined) {
      return ['!=', 'NOT CONTAINS'].includes(operator) ? semantics.missingMatches : false;
    }
    switch (operator) {
      case 'CONTAINS':
        return Array.isArray(actual) && actual.includes(expected);
      case 'NOT CONTAINS':
        return Array.isArray(actual) && !actual.includes(expected);
      case '=':
        return actual === expected;
      case '!=':
        return actual !== expected;
      default: {
        if (typeof actual !== typeof expected) return false;
        const a = actual as number | string;
        const b = expected as number | string;
        if (operator === '<') return a < b;
        if (operator === '<=') return a <= b;
        if (operator === '>') return a > b;
        if (operator === '>=') return a >= b;
        throw new Error(`model: unknown operator ${operator}`);
      }
    }
  }

  function conjunction(): boolean {
    let value = primary();
    while (tokens[position] === 'AND') {
      position++;
      const right = primary();
      value = value && right;
    }
    return value;
  }

  function disjunction(): boolean {
    let value = conjunction();
    while (tokens[position] === 'OR') {
      position++;
      const right = conjunction();
      value = value || right;
    }
    return value;
  }

  const result = disjunction();
  if (position !== tokens.length) throw new Error(`model: trailing input at ${position}`);
  return result;
}
