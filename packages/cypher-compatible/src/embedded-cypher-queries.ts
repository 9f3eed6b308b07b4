import { type Scope, scopeFields } from '@engram/core';

/**
 * One clause per field of the scope, each bound to a `$scope_<field>` parameter: the dialect
 * writes the clause (`userId: $scope_userId` in a property map, `r.userId = $scope_userId` in a
 * WHERE). The scope is expected to be non-empty and normalized.
 */
export function scopeClauses(
  scope: Scope,
  clause: (field: string, parameter: string) => string,
): { clauses: string[]; parameters: Record<string, string> } {
  const clauses: string[] = [];
  const parameters: Record<string, string> = {};
  for (const field of scopeFields) {
    const value = scope[field];
    if (value === undefined) continue;
    clauses.push(clause(field, `$scope_${field}`));
    parameters[`scope_${field}`] = value;
  }
  return { clauses, parameters };
}

/**
 * Like {@link scopeClauses}, with the namespace first (bound to `$scope_namespace`): the clauses
 * of "in this namespace, and every field of the scope matches".
 */
export function placeClauses(
  namespace: string,
  scope: Scope,
  clause: (field: string, parameter: string) => string,
): { clauses: string[]; parameters: Record<string, string> } {
  const fields = scopeClauses(scope, clause);
  return {
    clauses: [clause('namespace', '$scope_namespace'), ...fields.clauses],
    parameters: { scope_namespace: namespace, ...fields.parameters },
  };
}

/** Options of {@link relationPageConditions}: one page of a scope's relations by id. */
export interface RelationPageOptions {
  /** Relations on the page. */
  limit: number;
  /** The id after which the page starts (from the cursor). */
  after?: string | undefined;
  /** Whether invalidated relations are listed too. */
  includeInvalidated?: boolean | undefined;
}

/**
 * The conditions on the relation `r` of a page, and their parameters: `$limit` asks for one row
 * more than the page, to tell whether more follow.
 */
export function relationPageConditions(options: RelationPageOptions): {
  conditions: string[];
  parameters: { limit: number; after?: string };
} {
  const conditions: string[] = [];
  if (!options.includeInvalidated) conditions.push('r.invalidatedAt IS NULL');
  if (options.after === undefined) return { conditions, parameters: { limit: options.limit + 1 } };
  conditions.push('r.id > $after');
  return { conditions, parameters: { limit: options.limit + 1, after: options.after } };
}
