import { expiresAtField, expiryOf } from './expiry.js';
import type { MemoryItem } from './memory-types.js';
import { scopeFields } from './scope.js';
import type { StoredRecord } from './vector-store.js';

/** A stored record as callers see it (never with its vector). */
export function toMemoryItem(record: StoredRecord): MemoryItem {
  const item: MemoryItem = {
    id: record.id,
    memory: record.text,
    metadata: visibleMetadata(record.metadata ?? {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.hash !== undefined) item.hash = record.hash;
  const expiry = expiryOf(record);
  if (expiry !== undefined) item.expiresAt = new Date(expiry).toISOString();
  for (const field of scopeFields) if (record[field] !== undefined) item[field] = record[field];
  return item;
}

/** Metadata as callers see it: without the expiry, which they get as `expiresAt`. */
function visibleMetadata(metadata: StoredRecord['metadata']): StoredRecord['metadata'] {
  if (!(expiresAtField in metadata)) return metadata;
  const { [expiresAtField]: _expiry, ...rest } = metadata;
  return rest;
}
