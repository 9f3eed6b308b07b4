import { createHash } from 'node:crypto';
import type { JsonValue, StoredRecord, VectorRecord } from '@engram/core';
import { filterPayloadKey, qdrantFilterFields } from './qdrant-filter.js';

const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The Qdrant point id of a record id. Qdrant accepts only UUIDs and unsigned integers and
 * rewrites UUIDs to lowercase, so a lowercase UUID is used as it is and any other id is hashed
 * (SHA-256, shaped as a UUID); the record id itself is kept in the payload.
 */
export function qdrantPointId(id: string): string {
  if (canonicalUuid.test(id)) return id;
  const hex = createHash('sha256').update(id, 'utf8').digest('hex');
  // version 8 (custom) and the RFC 4122 variant bits keep it a well-formed UUID
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Whether a string is a UUID as Qdrant returns point ids (used to validate cursors). */
export function isQdrantPointId(value: string): boolean {
  return canonicalUuid.test(value);
}

/** The payload stored for a record: its fields, the metadata as given, and the filter projection. */
export function toQdrantPayload(record: VectorRecord): Record<string, JsonValue> {
  const payload: Record<string, JsonValue> = {
    id: record.id,
    text: record.text,
    metadata: record.metadata,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.hash !== undefined) payload.hash = record.hash;
  if (record.userId !== undefined) payload.userId = record.userId;
  if (record.agentId !== undefined) payload.agentId = record.agentId;
  if (record.runId !== undefined) payload.runId = record.runId;
  payload[filterPayloadKey] = qdrantFilterFields(record.metadata) as unknown as JsonValue;
  return payload;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Rebuilds a record from a point's payload (and vector, when asked for). */
export function fromQdrantPoint(
  payload: Record<string, unknown> | null | undefined,
  vector: unknown,
  includeVectors: boolean | undefined,
): StoredRecord {
  const data = payload ?? {};
  const record: StoredRecord = {
    id: String(data.id),
    text: typeof data.text === 'string' ? data.text : '',
    metadata:
      data.metadata && typeof data.metadata === 'object' && !Array.isArray(data.metadata)
        ? (data.metadata as Record<string, JsonValue>)
        : {},
    createdAt: String(data.createdAt ?? ''),
    updatedAt: String(data.updatedAt ?? ''),
  };
  const hash = optionalString(data.hash);
  const userId = optionalString(data.userId);
  const agentId = optionalString(data.agentId);
  const runId = optionalString(data.runId);
  if (hash !== undefined) record.hash = hash;
  if (userId !== undefined) record.userId = userId;
  if (agentId !== undefined) record.agentId = agentId;
  if (runId !== undefined) record.runId = runId;
  if (includeVectors && Array.isArray(vector)) record.vector = vector as number[];
  return record;
}
