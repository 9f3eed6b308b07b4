import { describe, expect, it } from 'vitest';
import { evidenceRecall, locomoPath, normalizeEvidence, parseLocomo } from './locomo.js';

describe('LoCoMo parsing', () => {
  it('repairs malformed evidence ids', () => {
    expect(normalizeEvidence('D8:6; D9:17')).toEqual(['D8:6', 'D9:17']);
    expect(normalizeEvidence('D:11:26')).toEqual(['D11:26']);
    expect(normalizeEvidence('D30:05')).toEqual(['D30:5']);
    expect(normalizeEvidence('garbage')).toEqual([]);
  });

  it('reads turns in session order and keeps questions of categories 1-4 with known evidence', () => {
    const json = JSON.stringify([
      {
        sample_id: 'conv-1',
        conversation: {
          speaker_a: 'Ann',
          speaker_b: 'Bob',
          session_2: [{ speaker: 'Bob', dia_id: 'D2:1', text: 'Later.' }],
          session_2_date_time: '2 May',
          session_1: [
            { speaker: 'Ann', dia_id: 'D1:1', text: 'Hi Bob.' },
            { speaker: 'Bob', dia_id: 'D1:2', text: 'I adopted a cat.' },
          ],
          session_1_date_time: '1 May',
        },
        qa: [
          { question: 'What did Bob adopt?', answer: 'a cat', evidence: ['D1:02'], category: 4 },
          { question: 'Two?', answer: 'x', evidence: ['D1:1; D2:1', 'D9:9'], category: 1 },
          { question: 'Nothing known', answer: 'x', evidence: ['D7:1'], category: 2 },
          { question: 'Adversarial', adversarial_answer: 'x', evidence: ['D1:1'], category: 5 },
        ],
      },
    ]);
    const [conversation] = parseLocomo(json);
    expect(conversation!.turns.map((turn) => turn.diaId)).toEqual(['D1:1', 'D1:2', 'D2:1']);
    expect(conversation!.questions).toEqual([
      { question: 'What did Bob adopt?', category: 4, evidence: ['D1:2'] },
      { question: 'Two?', category: 1, evidence: ['D1:1', 'D2:1'] },
    ]);
  });
});

describe('evidence recall', () => {
  it('is the fraction of evidence turns in the top k', () => {
    expect(evidenceRecall(['a', 'b', 'c'], ['b', 'z'], 2)).toBe(0.5);
    expect(evidenceRecall(['a', 'b', 'c'], ['c'], 2)).toBe(0);
    expect(evidenceRecall(['a', 'b', 'c'], ['c'], 3)).toBe(1);
  });
});

describe('locomoPath', () => {
  it('defaults to the shared data folder beside the repository and honours LOCOMO_PATH', () => {
    expect(locomoPath('/repo', {})).toBe('/shared/data/locomo/locomo-dev.json');
    expect(locomoPath('/repo', { LOCOMO_PATH: '/data/locomo' })).toBe(
      '/data/locomo/locomo-dev.json',
    );
    expect(locomoPath('/repo', { LOCOMO_PATH: '/data/x.json' })).toBe('/data/x.json');
  });
});
