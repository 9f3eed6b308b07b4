import { expect, it } from 'vitest';
import { runExample } from './main.js';

it('runs offline: the second turn sees what the first one stored', async () => {
  const lines: string[] = [];
  await runExample((line) => lines.push(line));
  expect(lines[0]).toBe('turn 1: Nice to meet you! I will keep that in mind.');
  expect(lines[1]).toBe(
    'turn 2: From what I remember (I am allergic to peanuts and I go hiking in the Alps every summer.), try trail mix without peanuts.',
  );
  expect(lines[2]).toBe('memories of alice: 1');
  expect(lines[3]).toContain('searchMemories tool');
});
