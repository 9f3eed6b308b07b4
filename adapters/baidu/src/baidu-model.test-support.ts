// A model of the documented Mochow filter expression grammar (a subset of SQL WHERE: `=`, `!=`,
// `>`, `>=`, `<`, `<=`, `IN (...)`, `AND`, `OR`, `NOT`, parentheses, single-quoted strings and
// numbers), NOT the service: it parses an expression and evaluates it against a row. A column
// that is not in the row is an error, as a filter on an undeclared field is for the service.

/** A parsed expression, evaluated against a row. */
export type BaiduModelExpression = (row: Record<string, unknown>) => boolean;

const tokenPattern =
  /\s*('[^']*'|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_]\w*|!=|>=|<=|=|<|>|\(|\)|,)/y;

/** Parses a filter expression. */
export function parseBaiduExpression(text: string): BaiduModelExpression {
  const tokens: string[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < text.trimEnd().length) {
    const match = tokenPattern.exec(text);
    if (!match) throw new Error(`model: cannot parse at ${tokenPattern.lastIndex}: ${text}`);
    tokens.push(match[1]!);
  }
  let position = 0;
  const next = () => tokens[position++]!;
  const literal = (token: string): string | number => {
    if (token.startsWith("'")) return token.slice(1, -1);
    const value = Number(token);
    if (Number.isNaN(value)) throw new Error(`model: bad literal ${token}`);
    return value;
  };
  const column = (row: Record<string, unknown>, name: string) => {
    if (!(name in row)) throw new Error(`model: unknown field ${name}`);
    return row[name] as string | number;
  };

  function comparison(): BaiduModelExpression {
    const name = next();
    const operator = next();
    if (operator === 'IN') {
      if (next() !== '(') throw new Error('model: IN needs (');
      const values: (string | number)[] = [];
      for (;;) {
        values.push(literal(next()));
        const separator = next();
        if (separator === ')') break;
        if (separator !== ',') throw new Error('model: bad IN list');
      }
      return (row) => values.includes(column(row, name));
    }
    const value = literal(next());
    return (row) => {
      const stored = column(row, name);
      if (typeof stored !== typeof value) throw new Error(`model: ${name} compared across types`);
      switch (operator) {
        case '=':
          return stored === value;
        case '!=':
          return stored !== value;
        case '>':
          return stored > value;
        case '>=':
          return stored >= value;
        case '<':
          return stored < value;
        case '<=':
          return stored <= value;
        default:
          throw new Error(`model: unknown operator ${operator}`);
      }
    };
  }

  function primary(): BaiduModelExpression {
    if (tokens[position] === 'NOT') {
      position++;
      const inner = primary();
      return (row) => !inner(row);
    }
    if (tokens[position] === '(') {
      position++;
      const inner = disjunction();
      if (next() !== ')') throw new Error('model: missing )');
      return inner;
    }
    return comparison();
  }

  function conjunction(): BaiduModelExpression {
    const parts = [primary()];
    while (tokens[position] === 'AND') {
      position++;
      parts.push(primary());
    }
    return (row) => parts.every((part) => part(row));
  }

  function disjunction(): BaiduModelExpression {
    const parts = [conjunction()];
    while (tokens[position] === 'OR') {
      position++;
      parts.push(conjunction());
    }
    return (row) => parts.some((part) => part(row));
  }

  const expression = disjunction();
  if (position !== tokens.length) throw new Error(`model: trailing tokens in ${text}`);
  return expression;
}
