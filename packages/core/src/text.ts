const stopwords = new Set(
  (
    'a an and are as at be been but by did do does for from had has have he her hers him his i if in ' +
    'into is it its me my of on or our ours she so than that the their them they this to was we were ' +
    'what when where which who whom why will with you your yours'
  ).split(' '),
);

/** Scripts written without spaces between words: their runs are split into words by a segmenter. */
const unspacedScript =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const wordOrEmoji = /[\p{L}\p{N}\p{M}]+|\p{Extended_Pictographic}/gu;
const needsKeywordForm =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Extended_Pictographic}]/u;

let wordSegmenter: Intl.Segmenter | undefined;

/**
 * Korean particles (josa) that attach to the noun before them, longest first: `서울에서` is
 * `서울` + `에서`. Stripping them lets `서울` find `서울에서`, `서울은` and `서울로`.
 */
const koreanParticles = [
  '에게서',
  '으로서',
  '으로써',
  '이라고',
  '에서',
  '에게',
  '한테',
  '께서',
  '으로',
  '까지',
  '부터',
  '처럼',
  '보다',
  '이랑',
  '하고',
  '라고',
  '마저',
  '조차',
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '에',
  '의',
  '도',
  '와',
  '과',
  '로',
  '만',
  '랑',
  '께',
];
const hangulWord = /^\p{Script=Hangul}+$/u;

/** The noun of a Korean word with a particle attached (`서울에서` -> `서울`), else none. */
function koreanStem(word: string): string | undefined {
  if (!hangulWord.test(word)) return undefined;
  for (const particle of koreanParticles) {
    if (word.length > particle.length && word.endsWith(particle)) {
      return word.slice(0, -particle.length);
    }
  }
  return undefined;
}

/** A word, and for a Korean word with a particle, its noun after it. */
function withKoreanStem(word: string): string[] {
  const stem = koreanStem(word);
  return stem ? [word, stem] : [word];
}

/**
 * The words of a run of letters: the run itself, or, for scripts written without spaces
 * (Chinese, Japanese, Thai, ...), the words `Intl.Segmenter` finds in it.
 */
function wordsOfRun(run: string): string[] {
  if (!unspacedScript.test(run)) return withKoreanStem(run);
  wordSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'word' });
  const words: string[] = [];
  for (const { segment, isWordLike } of wordSegmenter.segment(run)) {
    if (isWordLike) words.push(segment);
  }
  return words;
}

/** An emoji as a word every full-text analyzer keeps: `🍜` is `emoji1f35c`. */
function emojiWord(emoji: string): string {
  return `emoji${emoji.codePointAt(0)!.toString(16)}`;
}

/**
 * Lowercases, applies Unicode compatibility normalization and splits into word tokens. Runs of
 * scripts written without spaces (Chinese, Japanese, Thai, ...) are split into words by
 * `Intl.Segmenter`; each emoji is a token of its own (`emoji1f35c` for 🍜); a Korean word with a
 * particle attached is followed by its noun (`서울에서`, `서울`).
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [run] of text.normalize('NFKC').toLowerCase().matchAll(wordOrEmoji)) {
    if (/^\p{Extended_Pictographic}$/u.test(run)) tokens.push(emojiWord(run));
    else tokens.push(...wordsOfRun(run));
  }
  return tokens;
}

/**
 * The text as full-text engines should index it: runs of scripts written without spaces are
 * split into space-separated words and each emoji becomes a word (as {@link tokenize} splits
 * them), so that an analyzer that splits on spaces and punctuation (FTS5 `unicode61`, Postgres,
 * Elasticsearch, ...) finds a Chinese or Japanese word inside a sentence. A Korean word with a
 * particle attached is followed by its noun (`서울에서` -> `서울에서 서울`), so the noun alone finds
 * it. Other text is returned unchanged.
 */
export function keywordText(text: string): string {
  const korean = /\p{Script=Hangul}/u.test(text);
  if (!korean && !needsKeywordForm.test(text)) return text;
  return text.replace(wordOrEmoji, (run) => {
    if (!needsKeywordForm.test(run)) {
      const stem = korean ? koreanStem(run.normalize('NFKC')) : undefined;
      return stem ? `${run} ${stem}` : run;
    }
    if (/^\p{Extended_Pictographic}$/u.test(run)) return ` ${emojiWord(run)} `;
    return ` ${wordsOfRun(run.normalize('NFKC')).join(' ')} `;
  });
}

/**
 * Word tokens as {@link tokenize} made them before scripts without spaces were segmented and
 * emoji kept: what the hash embedder hashes, so that vectors it made before stay comparable.
 */
export function unsegmentedTokens(text: string): string[] {
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

/** {@link keywordTokens} over {@link unsegmentedTokens}, for the hash embedder. */
export function unsegmentedKeywordTokens(text: string): string[] {
  return unsegmentedTokens(text)
    .filter((token) => !stopwords.has(token))
    .map(stem);
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

const c0Names =
  'NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC FS GS RS US'.split(
    ' ',
  );
const c1Names =
  'PAD HOP BPH NBH IND NEL SSA ESA HTS HTJ VTS PLD PLU RI SS2 SS3 DCS PU1 PU2 STS CCH MW SPA EPA SOS SGCI SCI CSI ST OSC PM APC'.split(
    ' ',
  );

/** `U+0007 (BEL)`: a code point as written in error messages. */
export function describeCodePoint(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  const name =
    codePoint < 0x20
      ? c0Names[codePoint]
      : codePoint === 0x7f
        ? 'DEL'
        : codePoint >= 0x80 && codePoint < 0xa0
          ? c1Names[codePoint - 0x80]
          : undefined;
  return name ? `${hex} (${name})` : hex;
}

/** A control character (C0, DEL or C1). */
export function isControlCharacter(codePoint: number): boolean {
  return codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0);
}

/** Where a string stops being safe to store and show: the first offending code point. */
export interface UnsafeCharacter {
  /** The code point (a lone surrogate's own value for those). */
  codePoint: number;
  /** 1-based position, counted in characters (code points). */
  position: number;
  /** `control` for a control character, `surrogate` for a lone UTF-16 surrogate. */
  kind: 'control' | 'surrogate';
}

/**
 * The first character of `text` that memory text may not hold: a control character other than
 * tab and newline (a carriage return only as part of `\r\n`), or a lone surrogate (the string is
 * not well-formed Unicode). Such characters move a terminal's cursor, rewrite what it shows, or
 * break the UTF-8 every store and client expects.
 */
export function findUnsafeCharacter(text: string): UnsafeCharacter | undefined {
  let position = 0;
  for (let index = 0; index < text.length; index++) {
    position += 1;
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = text.charCodeAt(index + 1);
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        index += 1;
        continue;
      }
      return { codePoint: unit, position, kind: 'surrogate' };
    }
    if (!isControlCharacter(unit) || unit === 0x09 || unit === 0x0a) continue;
    if (unit === 0x0d && text.charCodeAt(index + 1) === 0x0a) continue;
    return { codePoint: unit, position, kind: 'control' };
  }
  return undefined;
}

/**
 * What is wrong with `text` as a stored string, as an error message that starts with `name`, or
 * `undefined` when nothing is: e.g. `text contains U+0007 (BEL) at character 12; remove control
 * characters (tab and newline are allowed).`
 */
export function unsafeCharacterMessage(text: string, name: string): string | undefined {
  const found = findUnsafeCharacter(text);
  if (!found) return undefined;
  const where = `${describeCodePoint(found.codePoint)} at character ${found.position}`;
  return found.kind === 'surrogate'
    ? `${name} is not well-formed Unicode: lone surrogate ${where}; send valid UTF-8 (or UTF-16) text.`
    : `${name} contains ${where}; remove control characters (tab and newline are allowed).`;
}
