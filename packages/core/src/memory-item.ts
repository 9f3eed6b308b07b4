import type { MemoryItem } from './memory-types.js';
import { scopeFields } from './scope.js';
import type { StoredRecord } from './vector-store.js';

/** A stored record as callers see it (never with its vector). */
export function toMemoryItem(record: StoredRecord): MemoryItem {
  const item: MemoryItem = {
    id: record.id,
    memory: record.text,
    metadata: record.metadata ?? {},
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.hash !== undefined) item.hash = record.hash;
  for (const field of scopeFields) if (record[field] !== undefined) item[field] = record[field];
  return item;
}
