// A model of S3 Vectors' documented metadata filter language, NOT the service: flat keys;
// $eq/$in on a list match when an element does ($ne/$nin: when none does); $gt..$lte compare
// numbers only; $exists tests the key; $and/$or. The documentation does not say whether $ne and
// $nin match vectors without the key, so `negationsMatchMissing` chooses, and the translation
// must not care.

/** How the model treats `$ne` / `$nin` on a missing key. */
export interface S3VectorsFilterSemantics {
  negationsMatchMissing: boolean;
}

const equalsAny = (stored: unknown, operand: unknown) =>
  Array.isArray(stored) ? stored.includes(operand) : stored === operand;

/** Whether `filter` selects `metadata`, per the model. */
export function s3VectorsFilterSelects(
  filter: Record<string, unknown>,
  metadata: Record<string, unknown>,
  semantics: S3VectorsFilterSemantics,
): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and' || key === '$or') {
      const children = condition as Record<string, unknown>[];
      if (children.length === 0) throw new Error(`model: empty ${key}`);
      const matches = (child: Record<string, unknown>) =>
        s3VectorsFilterSelects(child, metadata, semantics);
      return key === '$and' ? children.every(matches) : children.some(matches);
    }
    const stored = metadata[key];
    return Object.entries(condition as Record<string, unknown>).every(([operator, operand]) => {
      if (operator === '$exists') return (stored !== undefined) === operand;
      if ((operator === '$in' || operator === '$nin') && (operand as unknown[]).length === 0) {
        throw new Error(`model: ${operator} needs a non-empty array`);
      }
      if (stored === undefined) {
        return (operator === '$ne' || operator === '$nin') && semantics.negationsMatchMissing;
      }
      switch (operator) {
        case '$eq':
          return equalsAny(stored, operand);
        case '$ne':
          return !equalsAny(stored, operand);
        case '$in':
          return (operand as unknown[]).some((option) => equalsAny(stored, option));
        case '$nin':
          return !(operand as unknown[]).some((option) => equalsAny(stored, option));
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte': {
          if (typeof operand !== 'number') throw new Error('model: ranges take numbers');
          if (typeof stored !== 'number') return false;
          if (operator === '$gt') return stored > operand;
          if (operator === '$gte') return stored >= operand;
          if (operator === '$lt') return stored < operand;
          return stored <= operand;
        }
        default:
          throw new Error(`model: unknown operator ${operator}`);
      }
    });
  });
}
