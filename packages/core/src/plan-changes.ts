import { maxMemoryCharacters } from './memory-input.js';
import { textHash } from './text.js';

/** One decision of the reconcile answer, as the model wrote it. */
export interface ReconcileAction {
  /** What to do with the fact. */
  event: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE';
  /** Short temporary id of an existing memory (its index in the list the model saw). */
  id?: string;
  /** The new text (ADD, UPDATE). */
  text?: string;
}

/** An existing memory the model saw, under the temporary id of its index. */
export interface ExistingMemory {
  /** The memory's real id; never shown to the model. */
  id: string;
  /** Its text. */
  text: string;
  /** Hash of its normalized text, when stored. */
  hash?: string;
}

/** One operation of a plan; `target` is the existing memory it applies to. */
export type PlannedChange<T extends ExistingMemory = ExistingMemory> =
  | { event: 'ADD'; text: string }
  | { event: 'UPDATE'; text: string; target: T }
  | { event: 'DELETE'; target: T }
  | { event: 'NONE'; target: T };

/** Input of {@link planChanges}. */
export interface PlanChangesOptions<T extends ExistingMemory> {
  /** The model's decisions, in order. */
  actions: readonly ReconcileAction[];
  /** The existing memories; the model knew `existing[i]` as id `"i"`. */
  existing: readonly T[];
}

/** Output of {@link planChanges}. */
export interface PlanChangesResult<T extends ExistingMemory> {
  /** The operations to apply, in order. */
  changes: PlannedChange<T>[];
  /** Decisions that were ignored or reinterpreted, e.g. an id the model made up. */
  warnings: string[];
}

const events = new Set<string>(['ADD', 'UPDATE', 'DELETE', 'NONE']);

function actionOf(entry: unknown): ReconcileAction | undefined {
  if (entry == null || typeof entry !== 'object') return undefined;
  const raw = entry as Record<string, unknown>;
  const event = String(raw.event ?? raw.action ?? '').toUpperCase();
  if (!events.has(event)) return undefined;
  const id = raw.id ?? raw.memory_id;
  const text = raw.text ?? raw.memory;
  return {
    event: event as ReconcileAction['event'],
    ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}),
    ...(typeof text === 'string' && text.trim()
      ? { text: text.trim().slice(0, maxMemoryCharacters) }
      : {}),
  };
}

/** The decisions of a reconcile answer: `{"memory": [...]}`, a bare list, or close variants. */
export function parseReconcileAnswer(value: unknown): ReconcileAction[] | undefined {
  const raw = value as Record<string, unknown> | null;
  const list = Array.isArray(value)
    ? value
    : raw != null && typeof raw === 'object'
      ? (raw.memory ?? raw.memories ?? raw.actions)
      : undefined;
  if (!Array.isArray(list)) return undefined;
  return list.map(actionOf).filter((action) => action !== undefined);
}

/**
 * Turns the model's reconcile answer into operations, safely: ids are looked up among the
 * existing memories only (a made-up id never touches a real memory: UPDATE of one becomes ADD,
 * DELETE of one is ignored), each existing memory changes at most once, and a text already
 * stored or already added in this plan is not added again. Pure: no I/O, no clock.
 */
export function planChanges<T extends ExistingMemory>(
  options: PlanChangesOptions<T>,
): PlanChangesResult<T> {
  const byTemporaryId = new Map(options.existing.map((memory, index) => [String(index), memory]));
  const hashOf = (memory: T) => memory.hash ?? textHash(memory.text);
  const knownHashes = new Set(options.existing.map(hashOf));
  const touched = new Set<string>();
  const changes: PlannedChange<T>[] = [];
  const warnings: string[] = [];
  // Each existing memory changes at most once per plan: the first decision about it wins.
  const claim = (target: T): boolean => {
    if (touched.has(target.id)) return false;
    touched.add(target.id);
    return true;
  };

  for (const action of options.actions) {
    const target = action.id === undefined ? undefined : byTemporaryId.get(action.id);
    if (action.event === 'NONE') {
      if (target && claim(target)) changes.push({ event: 'NONE', target });
      continue;
    }
    if (action.event === 'DELETE') {
      if (!target)
        warnings.push(`Ignored DELETE of unknown memory id ${JSON.stringify(action.id)}.`);
      else if (claim(target)) changes.push({ event: 'DELETE', target });
      continue;
    }
    const text = action.text;
    if (!text) {
      warnings.push(`Ignored ${action.event} without text.`);
      continue;
    }
    const hash = textHash(text);
    if (action.event === 'UPDATE' && target && claim(target)) {
      changes.push(
        hashOf(target) === hash ? { event: 'NONE', target } : { event: 'UPDATE', text, target },
      );
      continue;
    }
    if (action.event === 'UPDATE' && !target) {
      warnings.push(`UPDATE of unknown memory id ${JSON.stringify(action.id)} was treated as ADD.`);
    }
    if (knownHashes.has(hash)) continue;
    knownHashes.add(hash);
    changes.push({ event: 'ADD', text });
  }
  return { changes, warnings };
}
