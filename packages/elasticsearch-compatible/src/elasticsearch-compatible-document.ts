import type { FilterScalar, JsonValue, StoredRecord, VectorRecord } from '@engram/core';

/**
 * Keyword field holding one term per scalar metadata leaf: `<path>\u0000<tag>:<value>`, where the
 * tag keeps types apart (`s` string, `n` number, `b` boolean), so `1`, `"1"` and `true` never
 * match each other, and numbers are encoded so that their byte order is their numeric order.
 */
export const metadataTermsField = 'metadata_terms';
/** Keyword field holding the same terms for the scalar elements of array leaves (`contains`). */
export const metadataElementsField = 'metadata_elements';
/** Keyword field holding every metadata path whose value is present and not null (`exists`). */
export const metadataPathsField = 'metadata_paths';
/** The derived filter fields, never returned to callers. */
export const derivedFields = [metadataTermsField, metadataElementsField, metadataPathsField];

/**
 * Longest term, in characters, that the filter fields index (`ignore_above`). Four UTF-8 bytes a
 * character keeps every indexed term under Lucene's 32,766-byte limit; string values past it are
 * stored and returned but cannot be filtered.
 */
export const maxIndexedTermLength = 8000;

// A filter field is at most 8 keys of this shape (core's field pattern); keys outside it can never
// be addressed by a filter, so they are not indexed.
const keyPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const maxPathKeys = 8;
const separator = '\u0000';

/** The type tag of a scalar term. */
export type TermTag = 's' | 'n' | 'b';

/** The tag of a scalar. */
export function tagOf(value: FilterScalar): TermTag {
  return typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b';
}

/**
 * A float64 as 16 hex digits whose string order equals numeric order: the IEEE 754 bits with the
 * sign bit flipped for positives and every bit flipped for negatives. `-0` becomes `0`, as
 * JavaScript's `===` treats them.
 */
export function sortableNumber(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value === 0 ? 0 : value);
  let high = view.getUint32(0);
  let low = view.getUint32(4);
  if (high & 0x8000_0000) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x8000_0000) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** The prefix every term of one path and type starts with: `<path>\u0000<tag>:`. */
export function termPrefix(path: string, tag: TermTag): string {
  return `${path}${separator}${tag}:`;
}

/** The first string after every term of one path and type (`:` + 1 is `;`). */
export function termUpperBound(path: string, tag: TermTag): string {
  return `${path}${separator}${tag};`;
}

/** The indexed term of a scalar at a path. */
export function encodeTerm(path: string, value: FilterScalar): string {
  const tag = tagOf(value);
  const encoded =
    tag === 's' ? (value as string) : tag === 'n' ? sortableNumber(value as number) : String(value);
  return termPrefix(path, tag) + encoded;
}

function isScalar(value: JsonValue): value is FilterScalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** The derived filter fields of one metadata object. */
export interface MetadataIndex {
  [metadataTermsField]: string[];
  [metadataElementsField]: string[];
  [metadataPathsField]: string[];
}

/**
 * Derives the filter fields of a metadata object, following core's `readField`: dotted paths of
 * nested objects, never into arrays; a key holding a dot is not a path and is skipped.
 */
export function indexMetadata(metadata: Record<string, JsonValue>): MetadataIndex {
  const terms: string[] = [];
  const elements = new Set<string>();
  const paths: string[] = [];
  const walk = (object: Record<string, JsonValue>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (!keyPattern.test(key) || value === null || value === undefined) continue;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      paths.push(path);
      if (Array.isArray(value)) {
        for (const element of value) if (isScalar(element)) elements.add(encodeTerm(path, element));
      } else if (typeof value === 'object') {
        if (depth + 1 < maxPathKeys) walk(value, path, depth + 1);
      } else if (isScalar(value)) {
        terms.push(encodeTerm(path, value));
      }
    }
  };
  walk(metadata, '', 0);
  return {
    [metadataTermsField]: terms,
    [metadataElementsField]: [...elements],
    [metadataPathsField]: paths,
  };
}

/** The document stored for a record: its fields in snake case plus the derived filter fields. */
export interface ElasticsearchCompatibleDocument extends MetadataIndex {
  id: string;
  vector: number[];
  text: string;
  hash?: string;
  user_id?: string;
  agent_id?: string;
  run_id?: string;
  metadata: Record<string, JsonValue>;
  created_at: string;
  updated_at: string;
}

/** The document of a record. Absent optional fields stay absent. */
export function toDocument(record: VectorRecord): ElasticsearchCompatibleDocument {
  return {
    id: record.id,
    vector: record.vector,
    text: record.text,
    ...(record.hash !== undefined ? { hash: record.hash } : {}),
    ...(record.userId !== undefined ? { user_id: record.userId } : {}),
    ...(record.agentId !== undefined ? { agent_id: record.agentId } : {}),
    ...(record.runId !== undefined ? { run_id: record.runId } : {}),
    metadata: record.metadata,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    ...indexMetadata(record.metadata),
  };
}

/** The record of a stored `_source` (fetched without the derived fields). */
export function fromSource(
  source: Partial<ElasticsearchCompatibleDocument>,
  id: string,
): StoredRecord {
  const record: StoredRecord = {
    id: source.id ?? id,
    text: source.text ?? '',
    metadata: source.metadata ?? {},
    createdAt: source.created_at ?? '',
    updatedAt: source.updated_at ?? '',
  };
  if (source.hash != null) record.hash = source.hash;
  if (source.user_id != null) record.userId = source.user_id;
  if (source.agent_id != null) record.agentId = source.agent_id;
  if (source.run_id != null) record.runId = source.run_id;
  if (Array.isArray(source.vector)) record.vector = source.vector;
  return record;
}
