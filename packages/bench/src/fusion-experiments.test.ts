import { describe, expect, it } from 'vitest';
import { localModelVariants, runFusionExperiments } from './fusion-experiments.js';
import { parseLocomo } from './locomo.js';

describe('fusion experiments', () => {
  it('ranks every variant on a small conversation, with the names the report prints', async () => {
    const [conversation] = parseLocomo(
      JSON.stringify([
        {
          sample_id: 'conv-1',
          conversation: {
            speaker_a: 'Ann',
            speaker_b: 'Bob',
            session_1: [
              { speaker: 'Ann', dia_id: 'D1:1', text: 'Hi Bob, how was the weekend?' },
              { speaker: 'Bob', dia_id: 'D1:2', text: 'I adopted a grey cat named Pixel.' },
              { speaker: 'Ann', dia_id: 'D1:3', text: 'I started learning the violin.' },
            ],
            session_1_date_time: '1 May',
          },
          qa: [
            {
              question: 'What pet did Bob adopt?',
              answer: 'a cat',
              evidence: ['D1:2'],
              category: 4,
            },
          ],
        },
      ]),
    );
    const rows = await runFusionExperiments([conversation!]);
    expect(rows).toHaveLength(16);
    expect(rows.map((row) => row[0])).toContain('score fusion 0.2 cosine + 0.8 FTS5/max');
    expect(rows.map((row) => row[0])).toContain('score fusion 0.3 cosine + 0.7 core BM25/max');
    const fusion = rows.find((row) => row[0] === 'score fusion 0.2 cosine + 0.8 FTS5/max')!;
    expect(fusion.slice(1)).toEqual(['1.000', '1.000']);

    const local = await runFusionExperiments([conversation!], { variants: localModelVariants });
    expect(local.map((row) => row[0])).toEqual(localModelVariants.map((variant) => variant.name));
    const lists = {
      vector: { ids: ['D1:1', 'D1:2'], scores: [0.9, 0.5] },
      fts: { ids: ['D1:2'], scores: [3] },
      bm25: { ids: [], scores: [] },
    };
    const following = localModelVariants.at(-1)!;
    expect(following.name).toContain('then the turn after each of the first 2');
    expect(following.rank(lists)).toEqual(['D1:2', 'D1:3', 'D1:1']);
  });
});
