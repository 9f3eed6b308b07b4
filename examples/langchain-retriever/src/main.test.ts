import { expect, it } from 'vitest';
import { runExample } from './main.js';

it('runs offline: retriever in a chain, and a LangGraph store over the same memories', async () => {
  const lines: string[] = [];
  await runExample((line) => lines.push(line));
  expect(lines).toEqual([
    'chain: (model saw 2 memories)',
    expect.stringMatching(/^top document: Alice is allergic to peanuts \(score /),
    'store search: Alice prefers metric units',
    'memories of alice: 4',
  ]);
});
