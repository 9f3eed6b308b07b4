import { type Scope, type StoredRecord, scopeFields, type VectorRecord } from '@engram/core';
import weaviate, { type WeaviateField } from 'weaviate-client';
import {
  andFilters,
  indexMetadata,
  type MetadataPropertyType,
  pathsProperty,
  unwrapExact,
  type WeaviateFilter,
  wrapExact,
} from './weaviate-filter.js';

type Properties = Record<string, WeaviateField>;

/** An object as the Weaviate client returns it from a query. */
export interface WeaviateObject {
  uuid: string;
  properties: unknown;
  vectors?: unknown;
}

const descriptionPrefix = 'engram:';
const exactProperties = ['hash', ...scopeFields] as const;

/** The properties every query returns: a record without its vector. */
export const recordProperties = [
  'text',
  'hash',
  'userId',
  'agentId',
  'runId',
  'metadata',
  'createdAt',
  'updatedAt',
];

/**
 * The property holding core's `keywordText` of a record whose keyword form differs from its text
 * (Chinese and Japanese words spaced out, emoji spelled, Korean nouns beside their particles):
 * `word` tokenization keeps a run of Chinese or Japanese as one term, and splits the spaced-out
 * form into its words (it splits on anything but letters and digits, and lowercases, which
 * `whitespace` would not do for the English words beside them). BM25 queries search it and
 * `text` together. Collections made before it existed get it added when first opened, and their
 * objects get it filled (see {@link keywordTextFilled}).
 */
export const keywordTextProperty = {
  name: 'keywordText',
  dataType: 'text' as const,
  tokenization: 'word' as const,
  indexFilterable: false,
  indexSearchable: true,
};

/**
 * The definition of the Weaviate collection behind an Engram collection: BM25 on `text`, exact
 * (`field`-tokenized) scope ids and hash, stored-only JSON, and a self-provided HNSW cosine vector.
 * The description records the collection's name and dimensions.
 */
export function collectionDefinition(className: string, collection: string, dimensions: number) {
  const exact = (name: string) => ({
    name,
    dataType: 'text' as const,
    tokenization: 'field' as const,
    indexFilterable: true,
    indexSearchable: false,
  });
  return {
    name: className,
    description: `${descriptionPrefix}${JSON.stringify({ collection, dimensions, keywordText: 'filled' })}`,
    properties: [
      {
        name: 'text',
        dataType: 'text' as const,
        tokenization: 'word' as const,
        indexFilterable: false,
        indexSearchable: true,
      },
      keywordTextProperty,
      ...exactProperties.map(exact),
      ...['metadata', 'createdAt', 'updatedAt'].map((name) => ({
        name,
        dataType: 'text' as const,
        indexFilterable: false,
        indexSearchable: false,
      })),
      { ...exact(pathsProperty), dataType: 'text[]' as const },
    ],
    vectorizers: weaviate.configure.vectors.selfProvided({
      vectorIndexConfig: weaviate.configure.vectorIndex.hnsw({ distanceMetric: 'cosine' }),
    }),
  };
}

function parseDescription(description: string | undefined): Record<string, unknown> | undefined {
  if (!description?.startsWith(descriptionPrefix)) return undefined;
  try {
    const parsed: unknown = JSON.parse(description.slice(descriptionPrefix.length));
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The dimensions recorded in a collection description; `undefined` when Engram did not write it. */
export function dimensionsOfDescription(description: string | undefined): number | undefined {
  const dimensions = parseDescription(description)?.dimensions;
  return typeof dimensions === 'number' ? dimensions : undefined;
}

/**
 * Whether the description says every object has its `keywordText` (collections made with the
 * property, and collections made before it once their objects were filled).
 */
export function keywordTextFilled(description: string | undefined): boolean {
  return parseDescription(description)?.keywordText === 'filled';
}

/** The description of a collection whose objects all have their `keywordText` now. */
export function withKeywordTextFilled(description: string): string {
  const parsed = parseDescription(description) ?? {};
  return `${descriptionPrefix}${JSON.stringify({ ...parsed, keywordText: 'filled' })}`;
}

/** The configuration of a metadata property added before the first record that needs it. */
export function metadataPropertyDefinition(name: string, type: MetadataPropertyType) {
  if (type === 'text' || type === 'text[]') {
    return {
      name,
      dataType: type,
      tokenization: 'field' as const,
      indexFilterable: true,
      indexSearchable: false,
    };
  }
  return { name, dataType: type, indexFilterable: true, indexRangeFilters: type === 'number' };
}

/** Exact-match conditions on the scope fields that are set. */
export function scopeFilter(scope: Scope): WeaviateFilter {
  return andFilters(
    ...scopeFields.flatMap((field): WeaviateFilter[] =>
      scope[field] === undefined
        ? []
        : [{ operator: 'Equal', target: { property: field }, value: wrapExact(scope[field]) }],
    ),
  );
}

/** Reads a record back from a Weaviate object. */
export function toRecord(object: WeaviateObject, includeVectors: boolean | undefined) {
  const properties = object.properties as Properties;
  const record: StoredRecord = {
    id: object.uuid,
    text: String(properties.text ?? ''),
    metadata: JSON.parse(String(properties.metadata ?? '{}')),
    createdAt: String(properties.createdAt ?? ''),
    updatedAt: String(properties.updatedAt ?? ''),
  };
  for (const field of exactProperties) {
    const value = properties[field];
    if (typeof value === 'string') record[field] = unwrapExact(value);
  }
  if (includeVectors) {
    const vectors = object.vectors as Record<string, unknown> | undefined;
    const vector = vectors?.default ?? Object.values(vectors ?? {})[0];
    if (Array.isArray(vector)) record.vector = vector as number[];
  }
  return record;
}

/** The Weaviate object of a record, and the types of the metadata properties it uses. */
export function toObject(record: VectorRecord) {
  const indexed = indexMetadata(record.metadata);
  const properties: Properties = {
    text: record.text,
    metadata: JSON.stringify(record.metadata),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.keywordText !== undefined && record.keywordText !== record.text
      ? { keywordText: record.keywordText }
      : {}),
    ...indexed.properties,
  };
  for (const field of exactProperties) {
    const value = record[field];
    if (value !== undefined) properties[field] = wrapExact(value);
  }
  return { object: { id: record.id, properties, vectors: record.vector }, types: indexed.types };
}
