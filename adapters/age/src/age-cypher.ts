import type { GraphEntity, GraphRelation, JsonValue, Scope } from '@engram/core';
import {
  type GraphPlace,
  placeClauses,
  type RelationPageOptions,
  relationPageConditions,
  scopeClauses,
  storedEntityProperties,
  storedRelationProperties,
} from '@engram/cypher-compatible';
import { qualifiedName, quoteIdentifier } from '@engram/postgres-compatible';

/** A value bound to a `$name` parameter of a Cypher query (sent as one agtype map). */
export type AgeParameter = JsonValue;

/**
 * One parameterized Cypher query: `text` goes between the `$$` of `cypher(graph, $$...$$, $1)`
 * and `parameters` is sent as `$1`, an agtype map. Values never appear in `text`.
 */
export interface AgeQuery {
  text: string;
  parameters: Record<string, AgeParameter>;
  /** Names of the returned columns, each of type agtype. */
  columns: string[];
}

/** Label of entity vertices. */
export const entityLabel = 'Entity';
/** Label of relation edges. */
export const relationLabel = 'RELATES';

/** Graph names AGE accepts, kept to characters that need no quoting anywhere. */
export const graphNamePattern = /^[A-Za-z_][A-Za-z0-9_]{2,62}$/;

/** The SQL statement that runs a Cypher query on a graph; `$1` carries the parameters. */
export function cypherSql(graphName: string, query: AgeQuery): string {
  if (!graphNamePattern.test(graphName)) throw new Error(`invalid graph name ${graphName}`);
  if (query.text.includes('$$')) throw new Error('a Cypher text must not contain $$');
  const columns = query.columns.map((column) => `${column} ag_catalog.agtype`).join(', ');
  return `SELECT * FROM ag_catalog.cypher('${graphName}', $$ ${query.text} $$, $1) AS (${columns})`;
}

/** A GIN index of a label table's properties, which answers MATCH patterns with property maps. */
export function labelIndexSql(graphName: string, label: string): string {
  const index = quoteIdentifier(`${graphName}_${label.toLowerCase()}_properties`);
  return `CREATE INDEX IF NOT EXISTS ${index} ON ${qualifiedName(graphName, label)} USING gin (properties)`;
}

/**
 * A property map pattern "every field of the scope matches exactly", e.g.
 * `{userId: $scope_userId}`. In a MATCH pattern AGE turns it into a containment test on the
 * label table's properties, which a GIN index answers. The scope must be non-empty.
 */
export function scopePattern(scope: Scope): { text: string; parameters: Record<string, string> } {
  const { clauses, parameters } = scopeClauses(
    scope,
    (field, parameter) => `${field}: ${parameter}`,
  );
  return { text: `{${clauses.join(', ')}}`, parameters };
}

/**
 * The property map pattern "in the namespace, and every field of the scope matches exactly",
 * e.g. `{namespace: $scope_namespace, userId: $scope_userId}`, answered by the GIN index.
 */
export function placePattern(place: GraphPlace): {
  text: string;
  parameters: Record<string, string>;
} {
  const { clauses, parameters } = placeClauses(
    place.namespace,
    place.scope,
    (field, parameter) => `${field}: ${parameter}`,
  );
  return { text: `{${clauses.join(', ')}}`, parameters };
}

/**
 * Gives vertices and edges written before graph stores kept namespaces the `namespace` given
 * (core's default collection). Idempotent.
 */
export function legacyNamespaceQueries(namespace: string): AgeQuery[] {
  return [
    {
      text: `MATCH (e:${entityLabel}) WHERE e.namespace IS NULL SET e.namespace = $namespace RETURN count(e)`,
      parameters: { namespace },
      columns: ['count'],
    },
    {
      text: `MATCH ()-[r:${relationLabel}]->() WHERE r.namespace IS NULL SET r.namespace = $namespace RETURN count(r)`,
      parameters: { namespace },
      columns: ['count'],
    },
  ];
}

/** Ids of the stored entities among these (ids must be non-empty). */
export function existingEntitiesQuery(ids: string[]): AgeQuery {
  return {
    text: `MATCH (e:${entityLabel}) WHERE e.id IN $ids RETURN e.id`,
    parameters: { ids },
    columns: ['id'],
  };
}

// Metadata travels as a JSON string: agtype would turn -0 into 0 and reorder keys.
const entityProperties = (entity: GraphEntity): Record<string, AgeParameter> =>
  storedEntityProperties(entity);
const relationProperties = (relation: GraphRelation): Record<string, AgeParameter> =>
  storedRelationProperties(relation);

/** `{key: $key, ...}` of the properties that are not null (AGE would store a null). */
function createMap(properties: Record<string, AgeParameter>): string {
  return `{${Object.keys(properties)
    .filter((key) => properties[key] !== null)
    .map((key) => `${key}: $${key}`)
    .join(', ')}}`;
}

/** `SET x.key = $key, ...` of every property but the id (setting null removes a property). */
function setList(variable: string, properties: Record<string, AgeParameter>): string {
  return Object.keys(properties)
    .filter((key) => key !== 'id')
    .map((key) => `${variable}.${key} = $${key}`)
    .join(', ');
}

function defined(properties: Record<string, AgeParameter>): Record<string, AgeParameter> {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== null));
}

/** Creates an entity vertex. */
export function createEntityQuery(entity: GraphEntity): AgeQuery {
  const properties = entityProperties(entity);
  return {
    text: `CREATE (e:${entityLabel} ${createMap(properties)}) RETURN e.id`,
    parameters: defined(properties),
    columns: ['id'],
  };
}

/** Replaces every property of a stored entity vertex. */
export function updateEntityQuery(entity: GraphEntity): AgeQuery {
  const properties = entityProperties(entity);
  return {
    text: `MATCH (e:${entityLabel} {id: $id}) SET ${setList('e', properties)} RETURN e.id`,
    parameters: properties,
    columns: ['id'],
  };
}

/** The endpoints of the stored relations with these ids (ids must be non-empty). */
export function relationEndpointsQuery(ids: string[]): AgeQuery {
  return {
    text: `MATCH (a:${entityLabel})-[r:${relationLabel}]->(b:${entityLabel}) WHERE r.id IN $ids RETURN r.id, a.id, b.id`,
    parameters: { ids },
    columns: ['id', 'source_id', 'destination_id'],
  };
}

/** Deletes every stored copy of a relation (before it is created again between other entities). */
export function deleteRelationQuery(id: string): AgeQuery {
  return {
    text: `MATCH ()-[r:${relationLabel} {id: $id}]->() DELETE r`,
    parameters: { id },
    columns: ['deleted'],
  };
}

/**
 * Creates a relation edge between two stored entities; returns nothing when either is missing.
 * (AGE's MERGE of an edge after a MATCH is not used: some versions create it between wrong
 * vertices and never match the existing one.)
 */
export function createRelationQuery(relation: GraphRelation): AgeQuery {
  const properties = relationProperties(relation);
  return {
    text:
      `MATCH (a:${entityLabel} {id: $sourceId}), (b:${entityLabel} {id: $destinationId}) ` +
      `CREATE (a)-[r:${relationLabel} ${createMap(properties)}]->(b) RETURN r.id`,
    parameters: {
      ...defined(properties),
      sourceId: relation.sourceId,
      destinationId: relation.destinationId,
    },
    columns: ['id'],
  };
}

/** Replaces every property of a stored relation edge. */
export function updateRelationQuery(relation: GraphRelation): AgeQuery {
  const properties = relationProperties(relation);
  return {
    text: `MATCH ()-[r:${relationLabel} {id: $id}]->() SET ${setList('r', properties)} RETURN r.id`,
    parameters: properties,
    columns: ['id'],
  };
}

/** Every entity of the place (the similarity is computed exactly by the caller). */
export function scopeEntitiesQuery(place: GraphPlace): AgeQuery {
  const pattern = placePattern(place);
  return {
    text: `MATCH (e:${entityLabel} ${pattern.text}) RETURN properties(e)`,
    parameters: pattern.parameters,
    columns: ['entity'],
  };
}

const tripleColumns = ['relation', 'source', 'destination'];
const tripleReturn = 'RETURN properties(r), properties(a), properties(b) ORDER BY r.id';

/** Valid relations of the place touching any of the entities (ids must be non-empty). */
export function neighboursQuery(
  options: GraphPlace & { entityIds: string[]; limit: number },
): AgeQuery {
  const pattern = placePattern(options);
  return {
    text:
      `MATCH (a:${entityLabel})-[r:${relationLabel} ${pattern.text}]->(b:${entityLabel}) ` +
      'WHERE r.invalidatedAt IS NULL AND (a.id IN $entityIds OR b.id IN $entityIds) ' +
      `${tripleReturn} LIMIT $limit`,
    parameters: { ...pattern.parameters, entityIds: options.entityIds, limit: options.limit },
    columns: tripleColumns,
  };
}

/** Marks the place's valid relations with these ids invalid (ids must be non-empty). */
export function invalidateRelationsQuery(
  options: GraphPlace & { relationIds: string[]; at: string },
): AgeQuery {
  const pattern = placePattern(options);
  return {
    text:
      `MATCH ()-[r:${relationLabel} ${pattern.text}]->() ` +
      'WHERE r.id IN $relationIds AND r.invalidatedAt IS NULL ' +
      'SET r.invalidatedAt = $at, r.updatedAt = $at RETURN r.id',
    parameters: { ...pattern.parameters, relationIds: options.relationIds, at: options.at },
    columns: ['id'],
  };
}

/** One page of the place's relations by id, one row more than the page to tell if more follow. */
export function listQuery(options: RelationPageOptions & GraphPlace): AgeQuery {
  const pattern = placePattern(options);
  const page = relationPageConditions(options);
  const where = page.conditions.length > 0 ? `WHERE ${page.conditions.join(' AND ')} ` : '';
  return {
    text:
      `MATCH (a:${entityLabel})-[r:${relationLabel} ${pattern.text}]->(b:${entityLabel}) ` +
      `${where}${tripleReturn} LIMIT $limit`,
    parameters: { ...pattern.parameters, ...page.parameters },
    columns: tripleColumns,
  };
}

/** Deletes the place's relations, then its entities; each returns how many it deleted. */
export function deleteScopeQueries(place: GraphPlace): {
  deleteRelations: AgeQuery;
  deleteEntities: AgeQuery;
} {
  const pattern = placePattern(place);
  return {
    deleteRelations: {
      text: `MATCH ()-[r:${relationLabel} ${pattern.text}]->() WITH r, r.id AS id DELETE r RETURN count(id)`,
      parameters: pattern.parameters,
      columns: ['count'],
    },
    // DETACH also removes relations of another scope (of the same namespace) that still point
    // at the entity.
    deleteEntities: {
      text: `MATCH (e:${entityLabel} ${pattern.text}) WITH e, e.id AS id DETACH DELETE e RETURN count(id)`,
      parameters: pattern.parameters,
      columns: ['count'],
    },
  };
}

/**
 * Parses one agtype value as printed by PostgreSQL. Maps, lists, strings, numbers, booleans
 * and null print as JSON; vertices, edges and paths carry a `::vertex`-style suffix.
 */
export function parseAgtype(text: string | null): unknown {
  if (text === null) return null;
  return JSON.parse(text.replace(/::(vertex|edge|path|numeric)$/, ''));
}
