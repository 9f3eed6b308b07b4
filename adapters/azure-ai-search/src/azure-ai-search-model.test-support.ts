// A model of the slice of Azure AI Search's OData $filter language this adapter sends, written
// from the OData syntax reference (comparisons, `and`/`or`/`not`, `search.in`, `any` lambdas
// over string and complex collections); NOT Azure AI Search. Strings compare ordinally (code
// point order, as Lucene terms do), case-sensitively; a comparison with a missing or null field
// is false except `eq null` / `ne null`; `any` over a missing or empty collection is false.

type Literal = string | number | boolean | null;

type Expression =
  | { kind: 'constant'; value: boolean }
  | { kind: 'and' | 'or'; left: Expression; right: Expression }
  | { kind: 'not'; operand: Expression }
  | { kind: 'compare'; path: string[]; operator: string; value: Literal }
  | { kind: 'in'; path: string[]; values: string[] }
  | { kind: 'any'; collection: string[]; variable: string; body: Expression };

type Token =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'word'; value: string }
  | { type: 'symbol'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const character = text[index]!;
    if (/\s/.test(character)) {
      index++;
    } else if (character === "'") {
      let value = '';
      index++;
      for (;;) {
        if (index >= text.length) throw new Error('model: unterminated string literal');
        if (text[index] === "'") {
          if (text[index + 1] === "'") {
            value += "'";
            index += 2;
            continue;
          }
          index++;
          break;
        }
        value += text[index];
        index++;
      }
      tokens.push({ type: 'string', value });
    } else if ('()/:,'.includes(character)) {
      tokens.push({ type: 'symbol', value: character });
      index++;
    } else if (/[-0-9]/.test(character)) {
      const match = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(index));
      if (!match) throw new Error(`model: bad number at ${index}`);
      tokens.push({ type: 'number', value: Number(match[0]) });
      index += match[0].length;
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(index));
      if (!match) throw new Error(`model: unexpected ${character} at ${index}`);
      tokens.push({ type: 'word', value: match[0] });
      index += match[0].length;
    }
  }
  return tokens;
}

/** Parses an OData $filter of the supported slice; throws on anything else. */
export function parseODataFilter(text: string): Expression {
  const tokens = tokenize(text);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position++];
    if (!token) throw new Error('model: unexpected end of filter');
    return token;
  };
  const expect = (value: string) => {
    const token = next();
    if (token.value !== value) throw new Error(`model: expected ${value}, got ${token.value}`);
  };
  const isWord = (value: string) => peek()?.type === 'word' && peek()?.value === value;

  function parsePath(first: string): string[] {
    const path = [first];
    while (peek()?.value === '/' && tokens[position + 1]?.value !== 'any') {
      next();
      const part = next();
      if (part.type !== 'word') throw new Error('model: bad path');
      path.push(part.value);
    }
    return path;
  }

  function parseLiteral(): Literal {
    const token = next();
    if (token.type === 'string' || token.type === 'number') return token.value;
    if (token.type === 'word' && token.value === 'true') return true;
    if (token.type === 'word' && token.value === 'false') return false;
    if (token.type === 'word' && token.value === 'null') return null;
    throw new Error(`model: bad literal ${token.value}`);
  }

  function parsePrimary(): Expression {
    const token = next();
    if (token.value === '(') {
      const inner = parseOr();
      expect(')');
      return inner;
    }
    if (token.type !== 'word') throw new Error(`model: unexpected ${token.value}`);
    if (token.value === 'true' || token.value === 'false') {
      return { kind: 'constant', value: token.value === 'true' };
    }
    if (token.value === 'search.in') {
      expect('(');
      const first = next();
      const path = parsePath(first.value as string);
      expect(',');
      const list = next();
      expect(',');
      const delimiter = next();
      expect(')');
      return {
        kind: 'in',
        path,
        values: String(list.value).split(String(delimiter.value)),
      };
    }
    const path = parsePath(token.value);
    if (peek()?.value === '/') {
      next();
      expect('any');
      expect('(');
      const variable = next().value as string;
      expect(':');
      const body = parseOr();
      expect(')');
      return { kind: 'any', collection: path, variable, body };
    }
    const operator = next();
    if (
      operator.type !== 'word' ||
      !['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(operator.value)
    ) {
      throw new Error(`model: bad operator ${operator.value}`);
    }
    return { kind: 'compare', path, operator: operator.value, value: parseLiteral() };
  }

  function parseUnary(): Expression {
    if (isWord('not')) {
      next();
      return { kind: 'not', operand: parseUnary() };
    }
    return parsePrimary();
  }

  function parseAnd(): Expression {
    let left = parseUnary();
    while (isWord('and')) {
      next();
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  }

  function parseOr(): Expression {
    let left = parseAnd();
    while (isWord('or')) {
      next();
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  }

  const expression = parseOr();
  if (position !== tokens.length) throw new Error(`model: trailing input at token ${position}`);
  return expression;
}

type Scope = Record<string, unknown>;

function resolve(path: string[], document: Record<string, unknown>, scope: Scope): unknown {
  let current: unknown = path[0]! in scope ? scope[path[0]!] : document[path[0]!];
  for (const part of path.slice(1)) {
    if (current == null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function codePointCompare(left: string, right: string): number {
  const a = [...left].map((character) => character.codePointAt(0)!);
  const b = [...right].map((character) => character.codePointAt(0)!);
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index]! - b[index]!;
  }
  return a.length - b.length;
}

function compare(actual: unknown, operator: string, expected: Literal): boolean {
  if (expected === null) {
    if (operator === 'eq') return actual == null;
    if (operator === 'ne') return actual != null;
    return false;
  }
  if (actual == null) return operator === 'ne';
  let difference: number;
  if (typeof actual === 'number' && typeof expected === 'number') difference = actual - expected;
  else if (typeof actual === 'string' && typeof expected === 'string') {
    difference = codePointCompare(actual, expected);
  } else if (typeof actual === 'boolean' && typeof expected === 'boolean') {
    if (operator !== 'eq' && operator !== 'ne') throw new Error('model: booleans have no order');
    difference = actual === expected ? 0 : 1;
  } else {
    throw new Error(`model: type mismatch ${typeof actual} ${operator} ${typeof expected}`);
  }
  switch (operator) {
    case 'eq':
      return difference === 0;
    case 'ne':
      return difference !== 0;
    case 'gt':
      return difference > 0;
    case 'ge':
      return difference >= 0;
    case 'lt':
      return difference < 0;
    default:
      return difference <= 0;
  }
}

/** Evaluates a parsed filter on one stored document. */
export function evaluateODataFilter(
  expression: Expression,
  document: Record<string, unknown>,
  scope: Scope = {},
): boolean {
  switch (expression.kind) {
    case 'constant':
      return expression.value;
    case 'and':
      return (
        evaluateODataFilter(expression.left, document, scope) &&
        evaluateODataFilter(expression.right, document, scope)
      );
    case 'or':
      return (
        evaluateODataFilter(expression.left, document, scope) ||
        evaluateODataFilter(expression.right, document, scope)
      );
    case 'not':
      return !evaluateODataFilter(expression.operand, document, scope);
    case 'compare':
      return compare(
        resolve(expression.path, document, scope),
        expression.operator,
        expression.value,
      );
    case 'in': {
      const actual = resolve(expression.path, document, scope);
      return typeof actual === 'string' && expression.values.includes(actual);
    }
    case 'any': {
      const items = resolve(expression.collection, document, scope);
      if (!Array.isArray(items)) return false;
      return items.some((item) =>
        evaluateODataFilter(expression.body, document, { ...scope, [expression.variable]: item }),
      );
    }
  }
}

/** Whether `filter` (an OData $filter string) selects `document`, per the model. */
export function odataFilterSelects(filter: string, document: Record<string, unknown>): boolean {
  return evaluateODataFilter(parseODataFilter(filter), document);
}
