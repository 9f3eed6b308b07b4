// A model of the openCypher WHERE subset this adapter writes, NOT Neptune Analytics: it parses
// the condition text back (so rendering is checked too) and evaluates it with openCypher's
// semantics: a missing property is null, comparisons of null or of different types are null
// (`=` of different types is false), `coalesce(x, false)` turns null into false, `NOT null` is
// null, and strings compare by code point.

type Value = string | number | boolean | unknown[] | null | undefined;
type Ternary = boolean | null;

/** A parsed condition, evaluated against a node's properties. */
export type ModelCondition = (properties: Record<string, unknown>) => Ternary;

function compareValues(operator: string, left: Value, right: Value): Ternary {
  if (left == null || right == null) return null;
  if (operator === '=') {
    if (typeof left !== typeof right) return false;
    return left === right;
  }
  if (operator === 'IN') {
    if (!Array.isArray(right)) throw new Error('model: IN needs a list');
    if (right.some((item) => typeof item === typeof left && item === left)) return true;
    return false;
  }
  if (operator === 'CONTAINS') {
    return typeof left === 'string' && typeof right === 'string' ? left.includes(right) : null;
  }
  const comparable =
    (typeof left === 'number' && typeof right === 'number') ||
    (typeof left === 'string' && typeof right === 'string');
  if (!comparable) return null;
  const order =
    typeof left === 'number'
      ? left - (right as number)
      : codePointCompare(left as string, right as string);
  if (operator === '<') return order < 0;
  if (operator === '<=') return order <= 0;
  if (operator === '>') return order > 0;
  if (operator === '>=') return order >= 0;
  throw new Error(`model: unknown operator ${operator}`);
}

function codePointCompare(left: string, right: string): number {
  const a = [...left].map((character) => character.codePointAt(0)!);
  const b = [...right].map((character) => character.codePointAt(0)!);
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index]! - b[index]!;
  }
  return a.length - b.length;
}

const tokenPattern =
  /\s*(coalesce\(|n\.`(?:[^`]|``)*`|n\.[A-Za-z_]\w*|\$\w+|IS NOT NULL|NOT|AND|OR|true|false|IN|CONTAINS|<=|>=|<|>|=|\(|\)|,)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < text.trimEnd().length) {
    const match = tokenPattern.exec(text);
    if (!match) throw new Error(`model: cannot parse at ${tokenPattern.lastIndex}: ${text}`);
    tokens.push(match[1]!);
  }
  return tokens;
}

const propertyName = (token: string) =>
  token.startsWith('n.`') ? token.slice(3, -1).replaceAll('``', '`') : token.slice(2);

/** Parses a condition over `n` as the adapter renders it, with its parameters. */
export function parseModelCondition(
  text: string,
  parameters: Record<string, unknown>,
): ModelCondition {
  const tokens = tokenize(text);
  let position = 0;
  const next = () => tokens[position++];
  const expect = (token: string) => {
    const actual = next();
    if (actual !== token) throw new Error(`model: expected ${token}, got ${actual} in ${text}`);
  };
  const parameter = (token: string | undefined) => {
    if (!token?.startsWith('$') || !(token.slice(1) in parameters)) {
      throw new Error(`model: unknown parameter ${token}`);
    }
    return parameters[token.slice(1)] as Value;
  };

  function comparison(): ModelCondition {
    const property = propertyName(next()!);
    const operator = next()!;
    if (operator === 'IS NOT NULL') return (node) => node[property] != null;
    const value = parameter(next());
    return (node) => compareValues(operator, node[property] as Value, value);
  }

  function primary(): ModelCondition {
    const token = tokens[position];
    if (token === 'true' || token === 'false') {
      position++;
      return () => token === 'true';
    }
    if (token === 'NOT') {
      position++;
      const inner = primary();
      return (node) => {
        const value = inner(node);
        return value === null ? null : !value;
      };
    }
    if (token === 'coalesce(') {
      position++;
      const inner = comparison();
      expect(',');
      expect('false');
      expect(')');
      return (node) => inner(node) ?? false;
    }
    if (token === '(') {
      position++;
      const inner = disjunction();
      expect(')');
      return inner;
    }
    return comparison();
  }

  function conjunction(): ModelCondition {
    const parts = [primary()];
    while (tokens[position] === 'AND') {
      position++;
      parts.push(primary());
    }
    return (node) => {
      const values = parts.map((part) => part(node));
      if (values.includes(false)) return false;
      return values.includes(null) ? null : true;
    };
  }

  function disjunction(): ModelCondition {
    const parts = [conjunction()];
    while (tokens[position] === 'OR') {
      position++;
      parts.push(conjunction());
    }
    return (node) => {
      const values = parts.map((part) => part(node));
      if (values.includes(true)) return true;
      return values.includes(null) ? null : false;
    };
  }

  const condition = disjunction();
  if (position !== tokens.length) throw new Error(`model: trailing tokens in ${text}`);
  return condition;
}
