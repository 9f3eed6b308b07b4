/**
 * Weaviate class names must match `/^[A-Z][_0-9A-Za-z]*$/` and are compared without regard to
 * case, so an Engram collection name is kept in lowercase letters and digits after a leading
 * `E`: `_` becomes `__`, anything else `_x<code point in hex>_`. The mapping is reversible, and
 * `Memories` and `memories` stay two collections.
 */
export function toClassName(collection: string): string {
  let encoded = 'E';
  for (const character of collection) {
    if (/^[a-z0-9]$/.test(character)) encoded += character;
    else if (character === '_') encoded += '__';
    else encoded += `_x${character.codePointAt(0)!.toString(16)}_`;
  }
  return encoded;
}

/** Reverses {@link toClassName}; `undefined` for names it did not make. */
export function fromClassName(className: string): string | undefined {
  if (!className.startsWith('E')) return undefined;
  let decoded = '';
  for (let index = 1; index < className.length; index++) {
    const character = className[index]!;
    if (character !== '_') {
      if (!/^[a-z0-9]$/.test(character)) return undefined;
      decoded += character;
      continue;
    }
    const next = className[index + 1];
    if (next === '_') {
      decoded += '_';
      index++;
      continue;
    }
    const end = className.indexOf('_', index + 1);
    if (next !== 'x' || end < 0) return undefined;
    const codePoint = Number.parseInt(className.slice(index + 2, end), 16);
    if (!Number.isInteger(codePoint)) return undefined;
    decoded += String.fromCodePoint(codePoint);
    index = end;
  }
  return decoded;
}
