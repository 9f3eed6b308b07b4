import { describe, expect, it } from 'vitest';
import { componentsFromEnvironment } from './environment-components.js';
import { InvalidArgumentError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { createRedactor, isValidIban, passesLuhn, redactionFromEnvironment } from './redaction.js';
import { createScriptedLLM, isExtractionRequest } from './testing/index.js';

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null };

const redactor = createRedactor(true);

// [input, expected output]: true positives are replaced, false positives left alone.
const cases: Array<[string, string]> = [
  ['write to jane.doe+work@example.co.uk today', 'write to [EMAIL] today'],
  ['mail: a_b@sub.example.com.', 'mail: [EMAIL].'],
  ['the @mention and user@localhost stay', 'the @mention and user@localhost stay'],
  ['call +41 44 668 18 00 tomorrow', 'call [PHONE] tomorrow'],
  ['call +1 (555) 123-4567', 'call [PHONE]'],
  ['her number is (555) 123-4567.', 'her number is [PHONE].'],
  ['555.123.4567 or 555-123-4567', '[PHONE] or [PHONE]'],
  ['born 1984-03-12, order 12345, version 2.4.1', 'born 1984-03-12, order 12345, version 2.4.1'],
  ['ticket 2024-001-123', 'ticket 2024-001-123'],
  ['card 4111 1111 1111 1111 expires', 'card [CREDIT_CARD] expires'],
  ['card 4111-1111-1111-1111', 'card [CREDIT_CARD]'],
  ['amex 378282246310005', 'amex [CREDIT_CARD]'],
  ['not a card 4111 1111 1111 1112', 'not a card 4111 1111 1111 1112'],
  ['pay DE89 3704 0044 0532 0130 00 now', 'pay [IBAN] now'],
  ['iban GB82WEST12345698765432', 'iban [IBAN]'],
  ['bad GB82WEST12345698765433', 'bad GB82WEST12345698765433'],
  ['key sk-proj-abcdefghijklmnopqrstuvwxyz012345', 'key [API_KEY]'],
  ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'token [API_KEY]'],
  ['slack xoxb-1234567890-abcdefghij', 'slack [API_KEY]'],
  ['aws AKIAIOSFODNN7EXAMPLE', 'aws [API_KEY]'],
  ['stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'stripe [API_KEY]'],
  ['task-manager and sk-short stay', 'task-manager and sk-short stay'],
  [
    'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'jwt [TOKEN]',
  ],
  ['Authorization: Bearer abcdef0123456789abcdef', 'Authorization: Bearer [TOKEN]'],
  ['the bearer of good news', 'the bearer of good news'],
  [
    'server 192.168.1.20 and ::1 and 2001:db8::8a2e:370:7334',
    'server [IP_ADDRESS] and [IP_ADDRESS] and [IP_ADDRESS]',
  ],
  ['at 12:30:45 on 999.1.1.1 v1.2.3', 'at 12:30:45 on 999.1.1.1 v1.2.3'],
  ['nothing sensitive here', 'nothing sensitive here'],
];

describe('createRedactor', () => {
  it.each(cases)('%s', (input, expected) => {
    expect(redactor.redact(input).text).toBe(expected);
  });

  it('counts what it replaced per type', () => {
    expect(redactor.redact('a@b.io, c@d.io, 10.0.0.1').counts).toEqual({
      EMAIL: 2,
      IP_ADDRESS: 1,
    });
  });

  it('runs only the types asked for, and custom detectors', () => {
    const custom = createRedactor({
      types: ['EMAIL'],
      detectors: [
        function* (text) {
          for (const match of text.matchAll(/\bCUST-\d{6}\b/g)) {
            yield { start: match.index, end: match.index + match[0].length, type: 'CUSTOMER' };
          }
        },
      ],
    });
    expect(custom.redact('CUST-123456 at 10.0.0.1, x@y.io').text).toBe(
      '[CUSTOMER] at 10.0.0.1, [EMAIL]',
    );
  });

  it('keeps the earliest, then longest, of overlapping spans and ignores invalid ones', () => {
    const overlapping = createRedactor({
      types: [],
      detectors: [
        () => [
          { start: 0, end: 5, type: 'A' },
          { start: 0, end: 9, type: 'B' },
          { start: 4, end: 11, type: 'C' },
          { start: 8, end: 3, type: 'D' },
          { start: -1, end: 2, type: 'E' },
        ],
      ],
      placeholder: (type) => `<${type}>`,
    });
    expect(overlapping.redact('0123456789abc').text).toBe('<B>9abc');
  });

  it('redacts strings inside JSON values, not keys', () => {
    const counts: Record<string, number> = {};
    expect(
      redactor.redactJson({ 'a@b.io': ['x@y.io', 3, { ip: '10.1.1.1' }], ok: true }, counts),
    ).toEqual({ 'a@b.io': ['[EMAIL]', 3, { ip: '[IP_ADDRESS]' }], ok: true });
    expect(counts).toEqual({ EMAIL: 1, IP_ADDRESS: 1 });
  });

  it('refuses an unknown type', () => {
    expect(() => createRedactor({ types: ['SSN' as never] })).toThrow(InvalidArgumentError);
  });

  it('checks Luhn and IBAN checksums', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('DE89370400440532013001')).toBe(false);
  });

  it('is turned on for a Memory built from the environment by ENGRAM_REDACT', async () => {
    const given = { vectorStore: createInMemoryStore(), llm: null, ...offline };
    expect((await componentsFromEnvironment({ ENGRAM_REDACT: '1' }, given)).redact).toBe(true);
    expect('redact' in (await componentsFromEnvironment({}, given))).toBe(false);
    const kept = await componentsFromEnvironment(
      { ENGRAM_REDACT: '1' },
      { ...given, redact: false },
    );
    expect(kept.redact).toBe(false);
  });

  it('reads ENGRAM_REDACT', () => {
    expect(redactionFromEnvironment({ ENGRAM_REDACT: '1' })).toBe(true);
    expect(redactionFromEnvironment({ ENGRAM_REDACT: 'true' })).toBe(true);
    expect(redactionFromEnvironment({ ENGRAM_REDACT: '0' })).toBe(false);
    expect(redactionFromEnvironment({})).toBe(false);
  });
});

describe('Memory with redact', () => {
  it('never shows the LLM or the store what it redacts, and counts it', async () => {
    const llm = createScriptedLLM({
      fallback: (options) =>
        isExtractionRequest(options)
          ? { facts: ['Email is [EMAIL]', 'Likes tea'] }
          : { memory: [{ id: 'new', event: 'ADD', text: 'Likes tea' }] },
    });
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      llm,
      ...offline,
      redact: true,
    });
    const result = await memory.add('My email is jane@example.com and I like tea', {
      userId: 'u',
      metadata: { phone: '+41 44 668 18 00' },
    });
    expect(JSON.stringify(llm.calls)).not.toContain('jane@example.com');
    expect(result.usage?.redactions).toBe(2);
    const verbatim = await memory.add('card 4111 1111 1111 1111', { userId: 'u', infer: false });
    expect(verbatim.results[0]?.memory).toBe('card [CREDIT_CARD]');
    const listed = await memory.list({ userId: 'u' });
    const stored = JSON.stringify(listed.results);
    expect(stored).not.toContain('jane@example.com');
    expect(stored).not.toContain('668 18 00');
    expect(stored).not.toContain('4111');
    const updated = await memory.update(verbatim.results[0]!.id, {
      text: 'new card 5555 5555 5555 4444',
      metadata: { ip: '10.0.0.7' },
    });
    expect(updated.memory).toBe('new card [CREDIT_CARD]');
    expect(updated.metadata.ip).toBe('[IP_ADDRESS]');
    const imported = await memory.import([{ userId: 'u', text: 'reach me at a@b.io' }]);
    expect(imported.results[0]?.memory).toBe('reach me at [EMAIL]');
    await memory.close();
  });

  it('leaves texts alone without redact', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    const result = await memory.add('jane@example.com', { userId: 'u' });
    expect(result.results[0]?.memory).toBe('jane@example.com');
    expect(result.usage?.redactions).toBeUndefined();
    await memory.close();
  });
});
