import { expect, it } from 'vitest';
import { runExample } from './main.js';

it("runs offline: mem0's MemoryClient adds, searches, lists and deletes through engram serve", async () => {
  const lines: string[] = [];
  await runExample((line) => lines.push(line));
  expect(lines).toEqual(['search: I am vegetarian', 'memories of alice: 3', 'after delete all: 0']);
});
