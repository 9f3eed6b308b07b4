import type Database from 'better-sqlite3';

/**
 * Keyword relevance of a small scope computed from the scope's own rows, so that a user-scoped
 * search costs the size of the scope rather than the number of documents in the collection that
 * share a common word with the query. Tokens follow the FTS5 tokenizer the keyword index uses
 * (`porter unicode61 remove_diacritics 2`), so a word matches here exactly when it matches there.
 */

const porterMaxBytes = 64;

function isVowel(character: string, previousIsConsonant: boolean): boolean {
  return (
    character === 'a' ||
    character === 'e' ||
    character === 'i' ||
    character === 'o' ||
    character === 'u' ||
    (previousIsConsonant && character === 'y')
  );
}

/** Consonant flags of a stem: `y` is a vowel after a consonant, as in Porter's definition. */
function consonants(stem: string): boolean[] {
  const flags: boolean[] = [];
  let previous = false;
  for (const character of stem) {
    previous = !isVowel(character, previous);
    flags.push(previous);
  }
  return flags;
}

/** Porter's measure m: the number of vowel-consonant sequences of the stem. */
function measure(stem: string): number {
  const flags = consonants(stem);
  let count = 0;
  let index = 0;
  while (index < flags.length && flags[index]) index++;
  while (index < flags.length) {
    while (index < flags.length && !flags[index]) index++;
    if (index === flags.length) break;
    while (index < flags.length && flags[index]) index++;
    count++;
  }
  return count;
}

/** Whether the stem holds a vowel; here (unlike in the measure) any `y` but the first counts. */
function hasVowel(stem: string): boolean {
  for (let index = 0; index < stem.length; index++) {
    if (isVowel(stem[index]!, index > 0)) return true;
  }
  return false;
}

/** `*o`: the stem ends consonant-vowel-consonant, the last not w, x or y. */
function endsCvc(stem: string): boolean {
  const last = stem.at(-1);
  if (last === undefined || last === 'w' || last === 'x' || last === 'y') return false;
  const flags = consonants(stem);
  const length = flags.length;
  // Positions before the start count as vowels, as in SQLite's bit mask.
  const at = (index: number) => (index >= 0 ? flags[index]! : false);
  return at(length - 1) && !at(length - 2) && at(length - 3);
}

type Rule = readonly [suffix: string, replacement: string];

/** The longest listed suffix the word ends with decides; its rule applies when `when` holds. */
function replaceSuffix(word: string, rules: readonly Rule[], when: (stem: string) => boolean) {
  for (const [suffix, replacement] of rules) {
    if (word.length > suffix.length && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      return when(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const step2: Rule[] = (
  [
    ['ational', 'ate'],
    ['tional', 'tion'],
    ['enci', 'ence'],
    ['anci', 'ance'],
    ['izer', 'ize'],
    ['logi', 'log'],
    ['bli', 'ble'],
    ['alli', 'al'],
    ['entli', 'ent'],
    ['eli', 'e'],
    ['ousli', 'ous'],
    ['ization', 'ize'],
    ['ation', 'ate'],
    ['ator', 'ate'],
    ['alism', 'al'],
    ['iveness', 'ive'],
    ['fulness', 'ful'],
    ['ousness', 'ous'],
    ['aliti', 'al'],
    ['iviti', 'ive'],
    ['biliti', 'ble'],
  ] as Rule[]
).sort((left, right) => right[0].length - left[0].length);
const step3: readonly Rule[] = [
  ['icate', 'ic'],
  ['ative', ''],
  ['alize', 'al'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
];
const step4Suffixes = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ion',
  'ou',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
].sort((left, right) => right.length - left.length);

function step1a(word: string): string {
  if (!word.endsWith('s')) return word;
  if (word.endsWith('sses') && word.length > 4) return word.slice(0, -2);
  if (word.endsWith('ies') && word.length > 3) return word.slice(0, -2);
  if (word.endsWith('es')) return word.slice(0, -1);
  return word.endsWith('ss') ? word : word.slice(0, -1);
}

function step1b(word: string): string {
  if (word.endsWith('eed') && word.length > 3) {
    return measure(word.slice(0, -3)) > 0 ? word.slice(0, -1) : word;
  }
  let stem: string | undefined;
  if (word.endsWith('ed') && word.length > 2 && hasVowel(word.slice(0, -2))) {
    stem = word.slice(0, -2);
  } else if (word.endsWith('ing') && word.length > 3 && hasVowel(word.slice(0, -3))) {
    stem = word.slice(0, -3);
  }
  if (stem === undefined) return word;
  for (const [suffix, replacement] of [
    ['at', 'ate'],
    ['bl', 'ble'],
    ['iz', 'ize'],
  ] as const) {
    if (stem.length > suffix.length && stem.endsWith(suffix)) {
      return stem + replacement.slice(suffix.length);
    }
  }
  const last = stem.at(-1)!;
  if (
    stem.length > 1 &&
    !isVowel(last, false) &&
    last !== 'l' &&
    last !== 's' &&
    last !== 'z' &&
    last === stem.at(-2)
  ) {
    return stem.slice(0, -1);
  }
  return measure(stem) === 1 && endsCvc(stem) ? `${stem}e` : stem;
}

function step4(word: string): string {
  for (const suffix of step4Suffixes) {
    if (word.length > suffix.length && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      if (measure(stem) <= 1) return word;
      if (suffix === 'ion' && !(stem.endsWith('s') || stem.endsWith('t'))) return word;
      return stem;
    }
  }
  return word;
}

/**
 * The Porter stem of a lowercase token, as SQLite's FTS5 `porter` tokenizer computes it: on the
 * token's UTF-8 bytes, where every byte of a non-ASCII character counts as a consonant.
 */
export function porterStem(token: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range
  if (/^[\u0000-\u007f]*$/.test(token)) return porterStemBytes(token);
  const bytes = Buffer.from(token, 'utf8').toString('latin1');
  return Buffer.from(porterStemBytes(bytes), 'latin1').toString('utf8');
}

function porterStemBytes(token: string): string {
  if (token.length < 3 || token.length > porterMaxBytes) return token;
  let word = step1b(step1a(token));
  if (word.endsWith('y') && hasVowel(word.slice(0, -1))) word = `${word.slice(0, -1)}i`;
  word = replaceSuffix(word, step2, (stem) => measure(stem) > 0);
  word = replaceSuffix(word, step3, (stem) => measure(stem) > 0);
  word = step4(word);
  if (word.endsWith('e')) {
    const stem = word.slice(0, -1);
    const stemMeasure = measure(stem);
    if (stemMeasure > 1 || (stemMeasure === 1 && !endsCvc(stem))) word = stem;
  }
  if (word.length > 1 && word.endsWith('ll') && measure(word.slice(0, -1)) > 1) {
    word = word.slice(0, -1);
  }
  return word;
}

/**
 * What FTS5's `unicode61 remove_diacritics 2` tokenizer makes of each of some non-ASCII
 * characters: the text it folds the character to inside a token (case and diacritics removed,
 * possibly empty), or `null` when the character separates tokens.
 */
export type CharacterProbe = (characters: readonly string[]) => Map<string, string | null>;

/** The ASCII characters of a token, folded as unicode61 folds them; `null` for a separator. */
function asciiFold(code: number): string | null {
  if (code >= 0x61 && code <= 0x7a) return String.fromCharCode(code);
  if (code >= 0x41 && code <= 0x5a) return String.fromCharCode(code + 32);
  if (code >= 0x30 && code <= 0x39) return String.fromCharCode(code);
  return null;
}

const stems = new Map<string, string>();
const maxCachedStems = 100_000;

function stemOf(word: string): string {
  let stem = stems.get(word);
  if (stem === undefined) {
    // A vocabulary is small next to the texts it is spread over, so stems repeat.
    if (stems.size >= maxCachedStems) stems.clear();
    stem = porterStem(word);
    stems.set(word, stem);
  }
  return stem;
}

/** Splits texts into tokens as the keyword index's tokenizer does. */
export interface KeywordTokenizer {
  /** The Porter-stemmed tokens of each text, in order. */
  tokenize(texts: readonly string[]): string[][];
}

/**
 * The tokenizer of the keyword index (`porter unicode61 remove_diacritics 2`) in JavaScript.
 * ASCII is folded here; how unicode61 folds or separates any other character is asked of SQLite
 * itself (`probe`) once per character, so that Unicode tables of SQLite's own version decide.
 */
export function createKeywordTokenizer(probe: CharacterProbe): KeywordTokenizer {
  const folds = new Map<string, string | null>();
  const maxCachedFolds = 100_000;

  function words(text: string): string[] {
    const found: string[] = [];
    let current = '';
    for (const character of text) {
      const code = character.codePointAt(0)!;
      const fold = code < 0x80 ? asciiFold(code) : folds.get(character);
      if (fold === null || fold === undefined) {
        if (current) found.push(current);
        current = '';
      } else {
        current += fold;
      }
    }
    if (current) found.push(current);
    return found;
  }

  return {
    tokenize(texts) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range
      const ascii = texts.map((text) => /^[\u0000-\u007f]*$/.test(text));
      const unknown = new Set<string>();
      for (const [index, text] of texts.entries()) {
        if (ascii[index]) continue;
        for (const character of text) {
          if (character.codePointAt(0)! >= 0x80 && !folds.has(character)) unknown.add(character);
        }
      }
      if (unknown.size > 0) {
        if (folds.size + unknown.size > maxCachedFolds) folds.clear();
        for (const [character, fold] of probe([...unknown])) folds.set(character, fold);
      }
      // ASCII text in one pass: its letters and digits, lowercased, are the tokens (asciiFold).
      return texts.map((text, index) =>
        (ascii[index] ? (text.toLowerCase().match(/[a-z0-9]+/g) ?? []) : words(text)).map(stemOf),
      );
    },
  };
}

const probeTable = 'engram_tokenizer_probe';

/**
 * A probe that asks SQLite's unicode61 tokenizer (a contentless FTS5 table and its fts5vocab
 * table, both temporary, so per connection) what it makes of `a<character>b`: one token
 * `a<fold>b`, or the two tokens `a` and `b` around a separator.
 */
export function createSqliteCharacterProbe(database: Database.Database): CharacterProbe {
  return (characters) => {
    database.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.${probeTable} USING fts5(
        text, content = '', tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.${probeTable}_terms USING fts5vocab(temp, ${probeTable}, 'instance');
    `);
    const folds = new Map<string, string | null>();
    database.transaction(() => {
      const insert = database.prepare(`INSERT INTO temp.${probeTable} (rowid, text) VALUES (?, ?)`);
      for (const [index, character] of characters.entries()) {
        insert.run(index + 1, `a${character}b`);
      }
      const rows = database
        .prepare(`SELECT doc, term FROM temp.${probeTable}_terms ORDER BY doc, offset`)
        .raw()
        .all() as [number, string][];
      const terms = characters.map((): string[] => []);
      for (const [doc, term] of rows) terms[doc - 1]?.push(term);
      for (const [index, character] of characters.entries()) {
        const found = terms[index]!;
        folds.set(character, found.length === 1 ? found[0]!.slice(1, -1) : null);
      }
      database
        .prepare(`INSERT INTO temp.${probeTable} (${probeTable}) VALUES ('delete-all')`)
        .run();
    })();
    return folds;
  };
}

/**
 * A probe that answers from JavaScript's Unicode tables, for tests and callers without SQLite:
 * letters, numbers and private-use characters are token characters, marks fold to nothing.
 */
export const approximateProbe: CharacterProbe = (characters) =>
  new Map(
    characters.map((character) => {
      if (/^\p{Mn}$/u.test(character)) return [character, ''];
      if (!/^[\p{L}\p{N}\p{Co}]$/u.test(character)) return [character, null];
      return [
        character,
        character
          .toLowerCase()
          .normalize('NFD')
          .replace(/\p{Mn}+/gu, ''),
      ];
    }),
  );

/** A row of the scope: its text. */
export interface ScopeDocument {
  /** The text the keyword index holds for the row. */
  text: string;
  /** Its tokens, when already known (the tokenizer's `tokenize` of `text`). */
  tokens?: readonly string[];
}

/** Statistics of the whole keyword index, so that a scope's rows score as the index scores them. */
export interface KeywordStatistics {
  /** Rows in the index. */
  documents: number;
  /** Mean row length in tokens. */
  averageLength: number;
  /** Rows of the index that hold a query word (`tokens` are its tokens). */
  frequency(word: string, tokens: readonly string[]): number;
}

/** Options of {@link scoreScopeBM25}. */
export interface ScopeBM25Options {
  /** The query's words (unstemmed, without stop words), each searched as a phrase. */
  terms: readonly string[];
  /** Every document of the scope. */
  documents: readonly ScopeDocument[];
  /** Statistics of the index the scope belongs to; without them, the scope's own. */
  statistics?: KeywordStatistics | undefined;
  /** The index's tokenizer. */
  tokenizer: KeywordTokenizer;
}

const k1 = 1.2;
const b = 0.75;

function occurrences(tokens: readonly string[], phrase: readonly string[]): number {
  let count = 0;
  outer: for (let start = 0; start + phrase.length <= tokens.length; start++) {
    for (let offset = 0; offset < phrase.length; offset++) {
      if (tokens[start + offset] !== phrase[offset]) continue outer;
    }
    count++;
  }
  return count;
}

/**
 * BM25 of each document of a scope for the query's words, computed as FTS5's `bm25()` computes
 * it (k1 1.2, b 0.75, lengths in tokens, an idf of `ln((N - n + 0.5) / (n + 0.5))` kept above
 * zero), from the index's statistics when given. 0 for a document that holds none of the words.
 */
export function scoreScopeBM25(options: ScopeBM25Options): number[] {
  const terms = [...new Set(options.terms)];
  const tokens = options.tokenizer.tokenize([
    ...terms,
    ...options.documents.flatMap((document) => (document.tokens ? [] : [document.text])),
  ]);
  const words = terms
    .map((word, index) => ({ word, phrase: tokens[index]! }))
    .filter(({ phrase }) => phrase.length > 0);
  let next = terms.length;
  const documents = options.documents.map((document) => document.tokens ?? tokens[next++]!);
  if (words.length === 0 || documents.length === 0) return documents.map(() => 0);
  const frequencies = documents.map((tokens) =>
    words.map(({ phrase }) => occurrences(tokens, phrase)),
  );
  const { statistics } = options;
  const count = Math.max(statistics?.documents ?? 0, documents.length);
  const averageLength =
    statistics?.averageLength ||
    documents.reduce((sum, tokens) => sum + tokens.length, 0) / documents.length ||
    1;
  const idf = words.map(({ word, phrase }, index) => {
    let containing = frequencies.filter((counts) => counts[index]! > 0).length;
    // The index holds the scope, so it cannot hold fewer (a cached count may be a little old).
    if (statistics) containing = Math.max(containing, statistics.frequency(word, phrase));
    const value = Math.log((count - containing + 0.5) / (containing + 0.5));
    return value > 0 ? value : 1e-6;
  });
  return frequencies.map((counts, documentIndex) => {
    const lengthNorm = 1 - b + (b * documents[documentIndex]!.length) / averageLength;
    let score = 0;
    for (const [index, frequency] of counts.entries()) {
      if (frequency > 0) {
        // FTS5's order of operations, so that equal scores stay equal to the last bit.
        score += idf[index]! * ((frequency * (k1 + 1)) / (frequency + k1 * lengthNorm));
      }
    }
    return score;
  });
}

/**
 * Rows and tokens of an FTS5 index, from its "averages" record (row 1 of `<table>_data`): SQLite
 * varints, the row count and then the token count of each column.
 */
export function fts5Averages(record: Uint8Array): { documents: number; tokens: number } {
  const values: number[] = [];
  let offset = 0;
  while (offset < record.length && values.length < 2) {
    let value = 0;
    for (let byteIndex = 0; byteIndex < 9 && offset < record.length; byteIndex++) {
      const byte = record[offset++]!;
      if (byteIndex === 8) {
        value = value * 256 + byte;
        break;
      }
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) break;
    }
    values.push(value);
  }
  return { documents: values[0] ?? 0, tokens: values[1] ?? 0 };
}
