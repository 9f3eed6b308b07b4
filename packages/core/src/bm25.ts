import { keywordTokens } from './text.js';

/** Parameters of {@link scoreBM25}. */
export interface BM25Options {
  /** Term-frequency saturation. Default 1.2. */
  k1?: number;
  /** Length normalization. Default 0.75. */
  b?: number;
}

/**
 * Okapi BM25 of one query against a set of documents, with document frequencies taken from that
 * set. Returns one score per document (0 when no query term occurs).
 */
export function scoreBM25(
  query: string,
  documents: readonly string[],
  options: BM25Options = {},
): number[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const queryTerms = [...new Set(keywordTokens(query))];
  if (queryTerms.length === 0 || documents.length === 0) return documents.map(() => 0);

  const termCounts = documents.map((document) => {
    const counts = new Map<string, number>();
    const tokens = keywordTokens(document);
    for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
    return { counts, length: tokens.length };
  });
  const averageLength =
    termCounts.reduce((sum, document) => sum + document.length, 0) / documents.length || 1;
  const documentFrequency = new Map<string, number>();
  for (const term of queryTerms) {
    let frequency = 0;
    for (const document of termCounts) if (document.counts.has(term)) frequency++;
    documentFrequency.set(term, frequency);
  }

  return termCounts.map(({ counts, length }) => {
    let score = 0;
    for (const term of queryTerms) {
      const frequency = counts.get(term);
      if (!frequency) continue;
      const containing = documentFrequency.get(term) ?? 0;
      const idf = Math.log(1 + (documents.length - containing + 0.5) / (containing + 0.5));
      score +=
        (idf * frequency * (k1 + 1)) / (frequency + k1 * (1 - b + (b * length) / averageLength));
    }
    return score;
  });
}
