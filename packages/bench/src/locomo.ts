import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** One turn of a LoCoMo conversation. */
export interface LocomoTurn {
  /** `D<session>:<n>`. */
  diaId: string;
  speaker: string;
  text: string;
}

/** One question with the turns that hold its answer. */
export interface LocomoQuestion {
  question: string;
  category: 1 | 2 | 3 | 4;
  evidence: string[];
}

export interface LocomoConversation {
  sampleId: string;
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
}

/** Category names of the LoCoMo paper. */
export const categoryNames: Record<number, string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
};

/**
 * Splits and repairs an evidence entry: `"D8:6; D9:17"` -> `["D8:6", "D9:17"]`,
 * `"D:11:26"` -> `["D11:26"]`, `"D30:05"` -> `["D30:5"]`.
 */
export function normalizeEvidence(entry: string): string[] {
  const result: string[] = [];
  for (const part of entry.split(/[;,\s]+/)) {
    const match = /^D:?(\d+):(\d+)$/i.exec(part.trim());
    if (match) result.push(`D${Number(match[1])}:${Number(match[2])}`);
  }
  return result;
}

interface RawSample {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: { question: string; evidence?: string[]; category: number }[];
}

/**
 * Reads the LoCoMo file: every turn of every session, and the questions of categories 1-4 with
 * their evidence repaired and restricted to turns that exist (questions left without evidence
 * are dropped).
 */
export function parseLocomo(json: string): LocomoConversation[] {
  const samples = JSON.parse(json) as RawSample[];
  return samples.map((sample) => {
    const turns: LocomoTurn[] = [];
    const sessions = Object.keys(sample.conversation)
      .map((key) => /^session_(\d+)$/.exec(key))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number(match[1]))
      .sort((left, right) => left - right);
    for (const session of sessions) {
      const list = sample.conversation[`session_${session}`] as
        | { speaker: string; dia_id: string; text: string }[]
        | undefined;
      for (const turn of list ?? []) {
        const [diaId] = normalizeEvidence(turn.dia_id);
        if (diaId && typeof turn.text === 'string' && turn.text.trim()) {
          turns.push({ diaId, speaker: turn.speaker, text: turn.text });
        }
      }
    }
    const known = new Set(turns.map((turn) => turn.diaId));
    const questions: LocomoQuestion[] = [];
    for (const item of sample.qa) {
      if (![1, 2, 3, 4].includes(item.category)) continue;
      const evidence = [
        ...new Set((item.evidence ?? []).flatMap(normalizeEvidence).filter((id) => known.has(id))),
      ];
      if (evidence.length === 0) continue;
      questions.push({
        question: item.question,
        category: item.category as LocomoQuestion['category'],
        evidence,
      });
    }
    return { sampleId: sample.sample_id, turns, questions };
  });
}

/** Fraction of the evidence turns found among the first `k` results. */
export function evidenceRecall(ranked: readonly string[], evidence: readonly string[], k: number) {
  const top = new Set(ranked.slice(0, k));
  return evidence.filter((id) => top.has(id)).length / evidence.length;
}

/** The LoCoMo file: `LOCOMO_PATH`, else `../shared/data/locomo/locomo-dev.json` from the root. */
export function locomoPath(root: string, env = process.env): string {
  const configured = env.LOCOMO_PATH;
  if (configured) {
    const path = isAbsolute(configured) ? configured : resolve(root, configured);
    return path.endsWith('.json') ? path : resolve(path, 'locomo-dev.json');
  }
  return resolve(root, '..', 'shared', 'data', 'locomo', 'locomo-dev.json');
}

export function loadLocomo(path: string): LocomoConversation[] | undefined {
  if (!existsSync(path)) return undefined;
  return parseLocomo(readFileSync(path, 'utf8'));
}
