const stopwords = new Set(
  (
    'a an and are as at be been but by did do does for from had has have he her hers him his i if in ' +
    'into is it its me my of on or our ours she so than that the their them they this to was we were ' +
    'what when where which who whom why will with you your yours'
  ).split(' '),
);

/** Lowercases, applies Unicode compatibility normalization and splits into word tokens. */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/**
 * A light English suffix stripper (plurals, -ing, -ed) so that "peanut" finds "peanuts". It only
 * has to map related forms to the same key, not produce real words.
 */
export function stem(token: string): string {
  if (!/^[a-z]+$/.test(token) || token.length <= 3) return token;
  if (token.endsWith('ies') && token.length > 4) return `${token.slice(0, -3)}y`;
  if (token.endsWith('sses')) return token.slice(0, -2);
  if (token.endsWith('ing') && token.length > 5) return token.slice(0, -3);
  if (token.endsWith('ed') && token.length > 4) return token.slice(0, -2);
  if (token.endsWith('s') && !/(ss|us|is)$/.test(token)) return token.slice(0, -1);
  return token;
}

/**
 * Word tokens without common English function words, unstemmed: what to hand a full-text engine
 * that stems with its own analyzer (FTS5 porter, Postgres, Elasticsearch).
 */
export function keywordWords(text: string): string[] {
  return tokenize(text).filter((token) => !stopwords.has(token));
}

/** Stemmed word tokens without common English function words; what core's BM25 counts. */
export function keywordTokens(text: string): string[] {
  return keywordWords(text).map(stem);
}

/** Collapses whitespace and case so that trivially different texts hash the same. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** 32-bit FNV-1a hash of a string. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Stable 64-bit (hex) content hash of normalized text, used to detect exact duplicates. */
export function textHash(text: string): string {
  const normalized = normalizeText(text);
  const high = fnv1a(normalized, 0x811c9dc5).toString(16).padStart(8, '0');
  const low = fnv1a(normalized, 0x01000193).toString(16).padStart(8, '0');
  return high + low;
}
