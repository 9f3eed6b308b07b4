// A model of Vertex AI Vector Search's documented filtering, NOT the service: restricts are
// ANDed across namespaces and ORed within one (a datapoint without the namespace does not
// match an allow list); a datapoint carrying a denied token is excluded; a numeric restrict
// matches when the datapoint has a value in that namespace and it compares as `op` says.
import type {
  VertexAiFilter,
  VertexAiNumericRestrict,
  VertexAiRestrict,
} from './vertex-ai-filter.js';

/** The restricts a datapoint carries. */
export interface VertexAiDatapointRestricts {
  restricts?: VertexAiRestrict[];
  numericRestricts?: VertexAiNumericRestrict[];
}

const compare: Record<
  NonNullable<VertexAiNumericRestrict['op']>,
  (a: number, b: number) => boolean
> = {
  LESS: (a, b) => a < b,
  LESS_EQUAL: (a, b) => a <= b,
  EQUAL: (a, b) => a === b,
  GREATER_EQUAL: (a, b) => a >= b,
  GREATER: (a, b) => a > b,
  NOT_EQUAL: (a, b) => a !== b,
};

/** Whether the query restricts `filter` select `datapoint`, per the model. */
export function vertexAiFilterSelects(
  filter: VertexAiFilter,
  datapoint: VertexAiDatapointRestricts,
): boolean {
  const tokens = new Map<string, Set<string>>();
  for (const restrict of datapoint.restricts ?? []) {
    const set = tokens.get(restrict.namespace) ?? new Set();
    for (const token of restrict.allowList ?? []) set.add(token);
    tokens.set(restrict.namespace, set);
  }
  const tokenMatch = filter.restricts.every((restrict) => {
    const carried = tokens.get(restrict.namespace);
    if (restrict.allowList && restrict.allowList.length === 0)
      throw new Error('model: empty allowList');
    if (restrict.allowList && !restrict.allowList.some((token) => carried?.has(token)))
      return false;
    return !(restrict.denyList ?? []).some((token) => carried?.has(token));
  });
  return (
    tokenMatch &&
    filter.numericRestricts.every((restrict) => {
      if (!restrict.op) throw new Error('model: numeric restrict without op');
      const values = (datapoint.numericRestricts ?? []).filter(
        (value) => value.namespace === restrict.namespace,
      );
      return values.some((value) => compare[restrict.op!](value.valueDouble, restrict.valueDouble));
    })
  );
}
