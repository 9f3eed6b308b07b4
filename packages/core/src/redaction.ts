import { isIPv6 } from 'node:net';
import { InvalidArgumentError } from './errors.js';
import type { JsonValue } from './vector-store.js';

/** A piece of text a detector found, as UTF-16 offsets (`end` exclusive) and its kind. */
export interface RedactionSpan {
  /** Offset of the first character. */
  start: number;
  /** Offset after the last character. */
  end: number;
  /** What it is (`EMAIL`, `PHONE`, ...): the placeholder becomes `[<type>]`. */
  type: string;
}

/** Finds sensitive spans in a text; spans may overlap (the earliest, then longest, wins). */
export type RedactionDetector = (text: string) => Iterable<RedactionSpan>;

/** The kinds of sensitive data the built-in detectors find. */
export type BuiltInRedactionType =
  | 'EMAIL'
  | 'PHONE'
  | 'CREDIT_CARD'
  | 'IBAN'
  | 'API_KEY'
  | 'TOKEN'
  | 'IP_ADDRESS';

/** Options of redaction (`MemoryOptions.redact`). */
export interface RedactionOptions {
  /** Built-in detectors to run. Default: every one (see {@link BuiltInRedactionType}). */
  types?: readonly BuiltInRedactionType[];
  /** Further detectors, run beside the built-in ones: e.g. customer numbers of a company. */
  detectors?: readonly RedactionDetector[];
  /** Text that replaces a span. Default `[<type>]`, e.g. `[EMAIL]`. */
  placeholder?: (type: string) => string;
}

/** A text with its sensitive spans replaced. */
export interface RedactedText {
  /** The text with placeholders. */
  text: string;
  /** Spans replaced, per type. */
  counts: Record<string, number>;
}

/** Replaces sensitive data in texts and JSON values. */
export interface Redactor {
  /** The text with every detected span replaced by its placeholder. */
  redact(text: string): RedactedText;
  /**
   * A copy of a JSON value whose strings are redacted (object keys are kept), adding what was
   * replaced to `counts`.
   */
  redactJson<T extends JsonValue>(value: T, counts: Record<string, number>): T;
}

function* matches(
  text: string,
  pattern: RegExp,
  type: string,
  accept?: (match: string) => boolean,
) {
  for (const match of text.matchAll(pattern)) {
    const value = match[1] ?? match[0];
    const start = match.index + (match[1] === undefined ? 0 : match[0].indexOf(match[1]));
    if (!accept || accept(value)) yield { start, end: start + value.length, type };
  }
}

/** Luhn checksum of a digit string. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check of an IBAN without spaces: moved country code, mod 97 equals 1. */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of moved) {
    const value = /\d/.test(character) ? character : String(character.charCodeAt(0) - 55);
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

const emailPattern =
  /(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b/g;
const cardPattern = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
const ibanPattern = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;
const apiKeyPattern = new RegExp(
  [
    'sk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}',
    '(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}',
    'gh[pousr]_[A-Za-z0-9]{36,}',
    'github_pat_[A-Za-z0-9_]{22,}',
    'glpat-[A-Za-z0-9_-]{20,}',
    'xox[abposre]-[A-Za-z0-9-]{10,}',
    '(?:AKIA|ASIA)[A-Z0-9]{16}',
    'AIza[A-Za-z0-9_-]{35}',
  ]
    .map((part) => `(?<![\\w-])${part}(?![\\w-])`)
    .join('|'),
  'g',
);
const jwtPattern = /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?![\w-])/g;
const bearerPattern = /\bBearer\s+([A-Za-z0-9._~+/-]{16,}=*)/gi;
const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`(?<![\\d.])${octet}(?:\\.${octet}){3}(?![\\d]|\\.\\d)`, 'g');
const ipv6Pattern = /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g;
// International numbers (+ and 8 to 15 digits) and North American ones ((555) 123-4567).
const phonePattern =
  /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])/g;

function* ibans(text: string): Generator<RedactionSpan> {
  for (const match of text.matchAll(ibanPattern)) {
    // The pattern may run into the next word; the longest prefix that checks out is the IBAN.
    let candidate = match[0];
    while (candidate.length >= 15) {
      if (isValidIban(candidate.replace(/ /g, ''))) {
        yield { start: match.index, end: match.index + candidate.length, type: 'IBAN' };
        break;
      }
      candidate = candidate.replace(/ ?[A-Z0-9]$/, '');
    }
  }
}

function digitCount(value: string): number {
  return value.replace(/\D/g, '').length;
}

/** The built-in detectors, by type. */
export const builtInRedactionDetectors: Readonly<Record<BuiltInRedactionType, RedactionDetector>> =
  {
    EMAIL: (text) => matches(text, emailPattern, 'EMAIL'),
    CREDIT_CARD: (text) =>
      matches(text, cardPattern, 'CREDIT_CARD', (value) => passesLuhn(value.replace(/\D/g, ''))),
    IBAN: ibans,
    API_KEY: (text) => matches(text, apiKeyPattern, 'API_KEY'),
    TOKEN: function* (text) {
      yield* matches(text, jwtPattern, 'TOKEN');
      yield* matches(text, bearerPattern, 'TOKEN');
    },
    IP_ADDRESS: function* (text) {
      yield* matches(text, ipv4Pattern, 'IP_ADDRESS');
      yield* matches(text, ipv6Pattern, 'IP_ADDRESS', (value) => isIPv6(value));
    },
    PHONE: (text) =>
      matches(text, phonePattern, 'PHONE', (value) => {
        const digits = digitCount(value);
        return digits >= 8 && digits <= 15;
      }),
  };

const allTypes = Object.keys(builtInRedactionDetectors) as BuiltInRedactionType[];

/**
 * A redactor over the built-in detectors (or those `types` names) and any custom ones. Spans are
 * replaced by `[<type>]`; where spans overlap, the one starting first (then the longest) wins.
 */
export function createRedactor(options: true | RedactionOptions = true): Redactor {
  const settings = options === true ? {} : options;
  const types = settings.types ?? allTypes;
  for (const type of types) {
    if (!(type in builtInRedactionDetectors)) {
      throw new InvalidArgumentError({
        message: `redact.types: unknown type "${type}"; use some of ${allTypes.join(', ')}, or add a detector in redact.detectors.`,
      });
    }
  }
  const detectors = [
    ...types.map((type) => builtInRedactionDetectors[type]),
    ...(settings.detectors ?? []),
  ];
  const placeholder = settings.placeholder ?? ((type: string) => `[${type}]`);

  function redact(text: string): RedactedText {
    const counts: Record<string, number> = {};
    if (text.length === 0) return { text, counts };
    const spans: RedactionSpan[] = [];
    for (const detector of detectors) {
      for (const span of detector(text)) {
        const valid =
          Number.isInteger(span.start) &&
          Number.isInteger(span.end) &&
          span.start >= 0 &&
          span.end <= text.length &&
          span.start < span.end;
        if (valid) spans.push(span);
      }
    }
    if (spans.length === 0) return { text, counts };
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    let result = '';
    let position = 0;
    for (const span of spans) {
      if (span.start < position) continue;
      result += text.slice(position, span.start) + placeholder(span.type);
      position = span.end;
      counts[span.type] = (counts[span.type] ?? 0) + 1;
    }
    return { text: result + text.slice(position), counts };
  }

  function redactJson<T extends JsonValue>(value: T, counts: Record<string, number>): T {
    if (typeof value === 'string') {
      const redacted = redact(value);
      addCounts(counts, redacted.counts);
      return redacted.text as T;
    }
    if (Array.isArray(value)) return value.map((entry) => redactJson(entry, counts)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, entry]) => [key, redactJson(entry, counts)]),
      ) as T;
    }
    return value;
  }

  return { redact, redactJson };
}

/** Adds the counts of `more` to `counts`. */
export function addCounts(counts: Record<string, number>, more: Record<string, number>): void {
  for (const [type, count] of Object.entries(more)) counts[type] = (counts[type] ?? 0) + count;
}

/** The sum of per-type counts. */
export function totalCount(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Whether `ENGRAM_REDACT` turns redaction on (`1`, `true`, `yes`, `on`). */
export function redactionFromEnvironment(env: Record<string, string | undefined>): boolean {
  return /^(1|true|yes|on)$/i.test(env.ENGRAM_REDACT?.trim() ?? '');
}
