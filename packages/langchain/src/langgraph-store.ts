import { createHash } from 'node:crypto';
import type {
  FilterExpression,
  JsonValue,
  Memory,
  MemoryItem,
  Scope,
  SearchResultItem,
} from '@engram/core';
import { InvalidArgumentError, NotFoundError, normalizeScope } from '@engram/core';
import {
  BaseStore,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from '@langchain/langgraph-checkpoint';

const source = 'langchain';

/** The `Memory` calls the store uses; a `Memory` instance fits. */
export type StoreMemory = Pick<Memory, 'search' | 'list' | 'get' | 'import' | 'delete'>;

/** Options of {@link EngramStore}. */
export interface EngramStoreOptions {
  /** Where items live (a `Memory` from `@engram/core`). */
  memory: StoreMemory;
  /**
   * The Engram scope every item of this store is kept under. Default `{ agentId: 'langgraph' }`.
   * Two stores with different scopes never see each other's items.
   */
  scope?: Scope;
  /**
   * Position of the namespace label that names the end user, e.g. `1` for
   * `['memories', userId]`. Items are then also stored with that `userId`, so they are part of
   * that user's Engram memory (searchable, exportable and erasable by `userId`), and searches
   * whose namespace prefix names the user look at that user's memories only.
   */
  userIdIndex?: number;
  /**
   * Fields of a value whose text is indexed for `search({ query })` when `put` is given no
   * `index`. Default: the first string among `text`, `content`, `memory`; otherwise the whole
   * value as JSON.
   */
  fields?: string[];
}

/** What the store keeps in each memory's metadata, under the `langgraph` key. */
interface StoredItemInfo {
  namespace: string[];
  key: string;
  prefixes: string[];
  indexed: boolean;
  value: Record<string, JsonValue>;
}

const defaultFields = ['text', 'content', 'memory'];
const listPage = 1000;

function invalid(message: string): never {
  throw new InvalidArgumentError({ source, message });
}

function checkNamespace(namespace: unknown, name: string, allowEmpty = false): string[] {
  if (!Array.isArray(namespace) || (!allowEmpty && namespace.length === 0)) {
    invalid(`${name} must be a non-empty array of strings, e.g. ["memories", "alice"].`);
  }
  for (const label of namespace) {
    if (typeof label !== 'string' || label.length === 0) {
      invalid(`${name} labels must be non-empty strings, got ${JSON.stringify(label)}.`);
    }
  }
  return namespace as string[];
}

function prefixToken(labels: string[]): string {
  return JSON.stringify(labels);
}

function textsAt(value: unknown, path: string): string[] {
  let current: unknown[] = [value];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)(?:\[(\*|-?\d+)\])?$/.exec(part);
    if (!match) return [];
    const [, field, index] = match;
    const next: unknown[] = [];
    for (const entry of current) {
      if (entry === null || typeof entry !== 'object') continue;
      const child = field ? (entry as Record<string, unknown>)[field!] : entry;
      if (index === undefined) next.push(child);
      else if (Array.isArray(child)) {
        if (index === '*') next.push(...child);
        else next.push(child.at(Number(index)));
      }
    }
    current = next;
  }
  return current.flatMap((entry) =>
    typeof entry === 'string' ? [entry] : entry === undefined ? [] : [JSON.stringify(entry)],
  );
}

function toDate(iso: string): Date {
  return new Date(iso);
}

const comparisons: Record<string, FilterExpression['op']> = {
  $eq: 'eq',
  $ne: 'ne',
  $gt: 'gt',
  $gte: 'gte',
  $lt: 'lt',
  $lte: 'lte',
};

/**
 * Turns LangGraph's search filter (`{ status: 'active', score: { $gt: 4 } }`, on the item's
 * value) into Engram's portable filter on the stored value.
 */
export function translateStoreFilter(filter: Record<string, unknown>): FilterExpression[] {
  const expressions: FilterExpression[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    const path = `langgraph.value.${field}`;
    if (condition !== null && typeof condition === 'object' && !Array.isArray(condition)) {
      for (const [operator, operand] of Object.entries(condition)) {
        const op = comparisons[operator];
        if (!op) {
          invalid(
            `filter operator ${operator} on "${field}" is not supported; use $eq, $ne, $gt, $gte, $lt or $lte.`,
          );
        }
        expressions.push(comparison(op, path, operand, field));
      }
    } else {
      expressions.push(comparison('eq', path, condition, field));
    }
  }
  return expressions;
}

function comparison(
  op: FilterExpression['op'],
  field: string,
  value: unknown,
  name: string,
): FilterExpression {
  const scalar =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  if (!scalar) {
    invalid(`filter value of "${name}" must be a string, number or boolean.`);
  }
  if ((op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') && typeof value === 'boolean') {
    invalid(`filter value of "${name}" must be a number or string for ${op}.`);
  }
  return { op, field, value } as FilterExpression;
}

function matchesCondition(namespace: string[], condition: MatchCondition): boolean {
  const { path } = condition;
  if (path.length > namespace.length) return false;
  const offset = condition.matchType === 'suffix' ? namespace.length - path.length : 0;
  return path.every((label, index) => label === '*' || label === namespace[offset + index]);
}

/**
 * A LangGraph store (`BaseStore`) backed by Engram: long-term memory for LangGraph agents that
 * lives beside the memories Engram extracts, in any Engram vector store. Each item is one
 * memory: its text is indexed for `search({ query })` (Engram's hybrid search), its namespace,
 * key and value are kept in the memory's metadata, and its id is derived from the namespace and
 * key, so `put` replaces and `get` reads by id.
 *
 * ```ts
 * const store = new EngramStore({ memory, userIdIndex: 1 });
 * await store.put(['memories', 'alice'], 'diet', { text: 'Alice is vegetarian' });
 * const graph = builder.compile({ store });
 * ```
 */
export class EngramStore extends BaseStore {
  readonly #memory: StoreMemory;
  readonly #scope: Scope;
  readonly #userIdIndex: number | undefined;
  readonly #fields: string[] | undefined;

  constructor(options: EngramStoreOptions) {
    super();
    const memory = options?.memory;
    if (!memory || typeof memory.import !== 'function' || typeof memory.search !== 'function') {
      invalid('EngramStore needs `memory`: pass a Memory from @engram/core.');
    }
    this.#memory = memory;
    this.#scope = normalizeScope(options.scope ?? { agentId: 'langgraph' }, {
      required: true,
      source,
    });
    if (options.userIdIndex !== undefined) {
      if (!Number.isInteger(options.userIdIndex) || options.userIdIndex < 0) {
        invalid(`userIdIndex must be a non-negative integer, got ${options.userIdIndex}.`);
      }
      if (this.#scope.userId !== undefined) {
        invalid('Give either scope.userId or userIdIndex, not both.');
      }
    }
    this.#userIdIndex = options.userIdIndex;
    this.#fields = options.fields;
  }

  /** The Engram scope of an item of this namespace (or of a search under this prefix). */
  scopeOf(namespace: string[]): Scope {
    const index = this.#userIdIndex;
    if (index === undefined || namespace.length <= index) return { ...this.#scope };
    return normalizeScope({ ...this.#scope, userId: namespace[index] }, { source });
  }

  /** The memory id of an item: derived from the store's scope, the namespace and the key. */
  memoryId(namespace: string[], key: string): string {
    const digest = createHash('sha256')
      .update(JSON.stringify([this.#scope, namespace, key]))
      .digest('hex');
    const variant = ((Number.parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-8${digest.slice(13, 16)}-${variant}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  }

  override async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const results: unknown[] = [];
    for (const operation of operations) {
      if ('namespacePrefix' in operation) results.push(await this.#search(operation));
      else if ('value' in operation) results.push(await this.#put(operation));
      else if ('key' in operation) results.push(await this.#get(operation));
      else results.push(await this.#listNamespaces(operation));
    }
    return results as OperationResults<Op>;
  }

  #text(value: Record<string, unknown>, index: false | string[] | undefined): string {
    const fields = Array.isArray(index) ? index : this.#fields;
    if (fields) {
      const text = fields.flatMap((field) => textsAt(value, field)).join('\n');
      if (text.trim().length > 0) return text;
    } else {
      for (const field of defaultFields) {
        const candidate = value[field];
        if (typeof candidate === 'string' && candidate.trim().length > 0) return candidate;
      }
    }
    return JSON.stringify(value);
  }

  async #get({ namespace, key }: GetOperation): Promise<Item | null> {
    checkNamespace(namespace, 'namespace');
    const item = await this.#memory.get(this.memoryId(namespace, key), this.scopeOf(namespace));
    return item ? this.#toItem(item, namespace, key) : null;
  }

  async #put({ namespace, key, value, index }: PutOperation): Promise<void> {
    checkNamespace(namespace, 'namespace');
    if (typeof key !== 'string' || key.length === 0) invalid('key must be a non-empty string.');
    const id = this.memoryId(namespace, key);
    const scope = this.scopeOf(namespace);
    if (value === null) {
      try {
        await this.#memory.delete(id, scope);
      } catch (error) {
        if (!NotFoundError.isInstance(error)) throw error;
      }
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      invalid('value must be a plain object, or null to delete the item.');
    }
    const info: StoredItemInfo = {
      namespace,
      key,
      prefixes: namespace.map((_, depth) => prefixToken(namespace.slice(0, depth + 1))),
      indexed: index !== false,
      value: value as Record<string, JsonValue>,
    };
    await this.#memory.import([
      {
        id,
        ...scope,
        text: this.#text(value, index),
        metadata: { langgraph: info as unknown as JsonValue },
      },
    ]);
  }

  async #search(operation: SearchOperation): Promise<SearchItem[]> {
    const prefix = checkNamespace(operation.namespacePrefix, 'namespacePrefix', true);
    const limit = operation.limit ?? 10;
    const offset = operation.offset ?? 0;
    const filters: FilterExpression[] = [{ op: 'exists', field: 'langgraph.key' }];
    if (prefix.length > 0) {
      filters.push({ op: 'contains', field: 'langgraph.prefixes', value: prefixToken(prefix) });
    }
    if (operation.filter) filters.push(...translateStoreFilter(operation.filter));
    const scope = this.scopeOf(prefix);
    if (operation.query) {
      filters.push({ op: 'ne', field: 'langgraph.indexed', value: false });
      const found = await this.#memory.search(operation.query, {
        ...scope,
        filters: { op: 'and', filters },
        limit: Math.min(offset + limit, 1000),
      });
      return found.results.slice(offset).flatMap((result) => this.#toSearchItem(result));
    }
    const items: SearchItem[] = [];
    for await (const item of this.#scan(scope, filters)) {
      items.push(item);
      if (items.length >= offset + limit) break;
    }
    return items.slice(offset);
  }

  async *#scan(scope: Scope, filters: FilterExpression[]): AsyncGenerator<SearchItem> {
    let cursor: string | undefined;
    do {
      const page = await this.#memory.list({
        ...scope,
        filters: { op: 'and', filters },
        limit: listPage,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const item of page.results) yield* this.#toSearchItem(item);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  async #listNamespaces(operation: ListNamespacesOperation): Promise<string[][]> {
    const conditions = operation.matchConditions ?? [];
    const prefixCondition = conditions.find(
      (condition) => condition.matchType === 'prefix' && !condition.path.includes('*'),
    );
    const filters: FilterExpression[] = [{ op: 'exists', field: 'langgraph.key' }];
    const prefix = prefixCondition?.path ?? [];
    if (prefix.length > 0) {
      filters.push({ op: 'contains', field: 'langgraph.prefixes', value: prefixToken(prefix) });
    }
    const seen = new Map<string, string[]>();
    for await (const item of this.#scan(this.scopeOf(prefix), filters)) {
      if (!conditions.every((condition) => matchesCondition(item.namespace, condition))) continue;
      const namespace =
        operation.maxDepth === undefined
          ? item.namespace
          : item.namespace.slice(0, operation.maxDepth);
      seen.set(JSON.stringify(namespace), namespace);
    }
    const sorted = [...seen.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, namespace]) => namespace);
    const offset = operation.offset ?? 0;
    return sorted.slice(offset, offset + (operation.limit ?? 100));
  }

  #info(item: MemoryItem): StoredItemInfo | undefined {
    const info = item.metadata.langgraph as unknown as StoredItemInfo | undefined;
    if (!info || !Array.isArray(info.namespace) || typeof info.key !== 'string') return undefined;
    return info;
  }

  #toItem(item: MemoryItem, namespace: string[], key: string): Item | null {
    const info = this.#info(item);
    if (!info || info.key !== key || prefixToken(info.namespace) !== prefixToken(namespace)) {
      return null;
    }
    return {
      namespace: info.namespace,
      key: info.key,
      value: info.value,
      createdAt: toDate(item.createdAt),
      updatedAt: toDate(item.updatedAt),
    };
  }

  #toSearchItem(item: MemoryItem | SearchResultItem): SearchItem[] {
    const info = this.#info(item);
    if (!info) return [];
    const found: SearchItem = {
      namespace: info.namespace,
      key: info.key,
      value: info.value,
      createdAt: toDate(item.createdAt),
      updatedAt: toDate(item.updatedAt),
    };
    if ('score' in item) found.score = item.score;
    return [found];
  }
}
