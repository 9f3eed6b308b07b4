function stripWrapping(text: string): string {
  return text
    .replace(/<think>[\s\S]*?<\/think>/gi, '')
    .replace(/^\s*```[a-zA-Z0-9_-]*\s*\n?/, '')
    .replace(/\n?\s*```\s*$/, '')
    .trim();
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function outermostJson(text: string): string | undefined {
  const start = text.search(/[[{]/);
  if (start < 0) return undefined;
  const open = text[start];
  const close = open === '{' ? '}' : ']';
  const end = text.lastIndexOf(close);
  return end > start ? text.slice(start, end + 1) : text.slice(start);
}

function removeTrailingCommas(text: string): string {
  return text.replace(/,\s*([}\]])/g, '$1');
}

/** Closes strings, arrays and objects left open by a truncated answer. */
function closeTruncated(text: string): string {
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  for (const character of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (character === '\\') escaped = true;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') inString = true;
    else if (character === '{') stack.push('}');
    else if (character === '[') stack.push(']');
    else if (character === '}' || character === ']') stack.pop();
  }
  let repaired = text;
  if (inString) repaired += '"';
  repaired = repaired.replace(/,\s*$/, '').replace(/:\s*$/, ': null');
  return repaired + stack.reverse().join('');
}

/**
 * Parses JSON the way models actually write it: inside code fences, after a reasoning block,
 * surrounded by prose, with trailing commas, smart quotes or cut off mid-answer. Returns
 * `undefined` when nothing usable can be recovered.
 */
export function parseModelJson(text: string): unknown {
  const stripped = stripWrapping(text);
  if (stripped.length === 0) return undefined;
  const direct = tryParse(stripped);
  if (direct.ok) return direct.value;
  const candidate = outermostJson(stripped.replace(/[\u201c\u201d]/g, '"'));
  if (candidate === undefined) return undefined;
  for (const attempt of [
    candidate,
    removeTrailingCommas(candidate),
    removeTrailingCommas(closeTruncated(candidate)),
  ]) {
    const parsed = tryParse(attempt);
    if (parsed.ok) return parsed.value;
  }
  return undefined;
}
