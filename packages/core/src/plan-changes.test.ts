import { describe, expect, it } from 'vitest';
import { parseReconcileAnswer, planChanges, type ReconcileAction } from './plan-changes.js';

const existing = [
  { id: 'uuid-pizza', text: 'Likes pizza' },
  { id: 'uuid-acme', text: 'Works at Acme' },
  { id: 'uuid-cat', text: 'Has a cat' },
];

const plan = (actions: ReconcileAction[]) => planChanges({ existing, actions });

describe('planChanges', () => {
  it('maps temporary ids to the existing memories: UPDATE, DELETE, NONE, ADD', () => {
    const { changes, warnings } = plan([
      { event: 'UPDATE', id: '0', text: 'Loves pepperoni pizza' },
      { event: 'DELETE', id: '1' },
      { event: 'NONE', id: '2' },
      { event: 'ADD', text: 'Owns a bike' },
    ]);
    expect(changes).toEqual([
      { event: 'UPDATE', text: 'Loves pepperoni pizza', target: existing[0] },
      { event: 'DELETE', target: existing[1] },
      { event: 'NONE', target: existing[2] },
      { event: 'ADD', text: 'Owns a bike' },
    ]);
    expect(warnings).toEqual([]);
  });

  it('never touches a memory through a made-up id: UPDATE becomes ADD, DELETE is ignored', () => {
    const { changes, warnings } = plan([
      { event: 'UPDATE', id: '7', text: 'Likes green tea' },
      { event: 'DELETE', id: 'uuid-acme' },
    ]);
    expect(changes).toEqual([{ event: 'ADD', text: 'Likes green tea' }]);
    expect(warnings).toEqual([
      'UPDATE of unknown memory id "7" was treated as ADD.',
      'Ignored DELETE of unknown memory id "uuid-acme".',
    ]);
  });

  it('changes each memory once and adds no text twice or already stored', () => {
    const { changes, warnings } = plan([
      { event: 'DELETE', id: '0' },
      { event: 'DELETE', id: '0' },
      { event: 'UPDATE', id: '2', text: 'has a CAT' },
      { event: 'ADD', text: 'Works at Acme' },
      { event: 'ADD', text: 'Owns a bike' },
      { event: 'ADD', text: 'owns a bike' },
      { event: 'ADD' },
    ]);
    expect(changes).toEqual([
      { event: 'DELETE', target: existing[0] },
      { event: 'NONE', target: existing[2] },
      { event: 'ADD', text: 'Owns a bike' },
    ]);
    expect(warnings).toEqual(['Ignored ADD without text.']);
  });
});

describe('parseReconcileAnswer', () => {
  it('reads the schema, bare lists and close variants, dropping unknown events', () => {
    expect(
      parseReconcileAnswer({
        memory: [
          { event: 'update', id: 2, text: ' Likes tea ' },
          { action: 'DELETE', memory_id: '1' },
          { event: 'MERGE', id: '0' },
          'noise',
        ],
      }),
    ).toEqual([
      { event: 'UPDATE', id: '2', text: 'Likes tea' },
      { event: 'DELETE', id: '1' },
    ]);
    expect(parseReconcileAnswer([{ event: 'ADD', text: 'x' }])).toEqual([
      { event: 'ADD', text: 'x' },
    ]);
    expect(parseReconcileAnswer({ nothing: [] })).toBeUndefined();
  });
});
