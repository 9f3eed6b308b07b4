import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  approximateProbe,
  createKeywordTokenizer,
  createSqliteCharacterProbe,
  fts5Averages,
  porterStem,
  scoreScopeBM25,
} from './sqlite-keyword-scope.js';

const tokenizer = createKeywordTokenizer(approximateProbe);

/** The tokens SQLite's own FTS5 tokenizer makes of each text, read back through fts5vocab. */
function sqliteTokens(texts: readonly string[]): string[][] {
  const database = new Database(':memory:');
  try {
    database.exec(`
      CREATE VIRTUAL TABLE words USING fts5(text, tokenize = 'porter unicode61 remove_diacritics 2');
      CREATE VIRTUAL TABLE words_vocabulary USING fts5vocab(words, 'instance');
    `);
    const insert = database.prepare('INSERT INTO words (rowid, text) VALUES (?, ?)');
    for (const [index, text] of texts.entries()) insert.run(index + 1, text);
    const tokens = texts.map((): string[] => []);
    const rows = database
      .prepare('SELECT doc, term, offset FROM words_vocabulary ORDER BY doc, offset')
      .all() as { doc: number; term: string }[];
    for (const row of rows) tokens[row.doc - 1]!.push(row.term);
    return tokens;
  } finally {
    database.close();
  }
}

const suffixes = [
  ...['s', 'es', 'sses', 'ies', 'ss', 'eed', 'ed', 'ing', 'ated', 'bled', 'izing', 'ying', 'y'],
  ...['ational', 'tional', 'enci', 'anci', 'izer', 'logi', 'bli', 'alli', 'entli', 'eli', 'ousli'],
  ...['ization', 'ation', 'ator', 'alism', 'iveness', 'fulness', 'ousness', 'aliti', 'iviti'],
  ...['biliti', 'icate', 'ative', 'alize', 'iciti', 'ical', 'ful', 'ness', 'al', 'ance', 'ence'],
  ...['er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'sion', 'tion', 'ion', 'ou'],
  ...['ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'e', 'll', 'ell', 'ating', 'ies', 'ness', 'fully'],
];
const stems = [
  ...['a', 'b', 'at', 'by', 'cat', 'hop', 'tann', 'fil', 'sky', 'toy', 'fizz', 'agree', 'feed'],
  ...['relat', 'condit', 'valen', 'hesit', 'digit', 'conform', 'radic', 'differ', 'sens', 'rat'],
  ...['control', 'roll', 'generaliz', 'oscill', 'adopt', 'bowdler', 'electr', 'hope', 'triplic'],
  ...['formal', 'sensit', 'formaliti', 'happ', 'wa', 'yell', 'quie', 'xy', 'syzygy', 'try'],
];
const plainWords = [
  'caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled',
  'sized hopping tanned falling hissing fizzed failing filing happy sky relational conditional',
  'rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli',
  'vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti',
  'sensitiviti sensibiliti triplicate formative formalize electriciti electrical hopeful goodness',
  'revival allowance inference airliner gyroscopic adjustable defensible irritant replacement',
  'adjustment dependent adoption homologou communism activate angulariti homologous effective',
  'bowdlerize probate rate cease controll roll eed ied ies yes',
  'Café naïve Ærøskøbing São Paulo straße ﬁnancial résumés coöperate 日本語 ÉCOLE 42nd',
  "don't it's e-mail U.S.A. 3.14 x1y2 supercalifragilisticexpialidociousnessesfullyationalizing",
];

describe('the keyword tokens of a scope', () => {
  it('are the tokens of the FTS5 porter unicode61 tokenizer', () => {
    const texts = [
      ...plainWords,
      ...stems.map((stem) => suffixes.map((suffix) => stem + suffix).join(' ')),
    ];
    const expected = sqliteTokens(texts);
    const database = new Database(':memory:');
    const exact = createKeywordTokenizer(createSqliteCharacterProbe(database));
    expect(exact.tokenize(texts)).toEqual(expected);
    // Every character of the Basic Multilingual Plane and a sample of the others, in words.
    const characters: string[] = [];
    for (let code = 0x80; code < 0x30000; code += code < 0x10000 ? 1 : 7) {
      if (code < 0xd800 || code > 0xdfff) characters.push(String.fromCodePoint(code));
    }
    const words = Array.from(
      { length: Math.ceil(characters.length / 5) },
      (_, index) => `x${characters.slice(index * 5, index * 5 + 5).join('q')}ing Ab`,
    );
    const unicodeTexts = Array.from({ length: Math.ceil(words.length / 50) }, (_, index) =>
      words.slice(index * 50, index * 50 + 50).join(' '),
    );
    expect(exact.tokenize(unicodeTexts)).toEqual(sqliteTokens(unicodeTexts));
    database.close();
  });

  it('stem short and long tokens as FTS5 does (not at all)', () => {
    expect(porterStem('is')).toBe('is');
    expect(porterStem('x'.repeat(65))).toBe('x'.repeat(65));
    expect(porterStem('running')).toBe('run');
  });
});

describe('scoreScopeBM25', () => {
  const documents = [
    'The axolotl in the lab has zygomorphic quetzal feathers',
    'I like coffee in the morning',
    'Coffee with the team on Mondays',
    'Prefers tea over coffee in the evening',
  ].map((text) => ({ text }));

  it('ranks the rare word above the common one and scores non-matching documents 0', () => {
    const scores = scoreScopeBM25({ terms: ['axolotls', 'coffee'], documents, tokenizer });
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[1]).toBeGreaterThan(0);
    expect(scoreScopeBM25({ terms: ['sushi'], documents, tokenizer })).toEqual([0, 0, 0, 0]);
    expect(scoreScopeBM25({ terms: [], documents, tokenizer })).toEqual([0, 0, 0, 0]);
  });

  it('counts a word that splits into several tokens as a phrase', () => {
    const scores = scoreScopeBM25({
      terms: ['e-mail'],
      documents: [{ text: 'send an e-mail' }, { text: 'mail the e form' }],
      tokenizer,
    });
    expect(scores[0]).toBeGreaterThan(0);
    expect(scores[1]).toBe(0);
  });

  it('agrees with SQLite bm25() when the scope is the whole table', () => {
    const database = new Database(':memory:');
    try {
      database.exec(
        "CREATE VIRTUAL TABLE notes USING fts5(text, tokenize = 'porter unicode61 remove_diacritics 2')",
      );
      const insert = database.prepare('INSERT INTO notes (rowid, text) VALUES (?, ?)');
      const texts = [
        ...documents.map((document) => document.text),
        'zygomorphic flowers and zygomorphic petals',
        'walking to the market',
        'the team walked home',
        'morning walks are lovely',
        'nothing to see here',
        'another plain sentence',
      ];
      for (const [index, text] of texts.entries()) insert.run(index + 1, text);
      const terms = ['zygomorphic', 'walking', 'coffee'];
      const rows = database
        .prepare('SELECT rowid, -bm25(notes) AS score FROM notes WHERE notes MATCH ?')
        .all(terms.map((term) => `"${term}"`).join(' OR ')) as { rowid: number; score: number }[];
      const scores = scoreScopeBM25({
        terms,
        documents: texts.map((text) => ({ text })),
        tokenizer,
      });
      for (const row of rows) expect(scores[row.rowid - 1]).toBeCloseTo(row.score, 9);
      expect(scores.filter((score) => score > 0)).toHaveLength(rows.length);
    } finally {
      database.close();
    }
  });
});

describe('fts5Averages', () => {
  it('reads the row and token counts of an FTS5 index', () => {
    const database = new Database(':memory:');
    try {
      database.exec('CREATE VIRTUAL TABLE notes USING fts5(text)');
      const insert = database.prepare('INSERT INTO notes (text) VALUES (?)');
      for (let index = 0; index < 300; index++) insert.run(`word `.repeat(index % 7));
      const record = database.prepare('SELECT block FROM notes_data WHERE id = 1').pluck().get();
      expect(fts5Averages(record as Buffer)).toEqual({ documents: 300, tokens: 897 });
      expect(fts5Averages(new Uint8Array())).toEqual({ documents: 0, tokens: 0 });
    } finally {
      database.close();
    }
  });
});
