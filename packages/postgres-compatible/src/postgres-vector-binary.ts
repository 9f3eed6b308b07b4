/**
 * pgvector's binary wire format, so that vectors travel as 4 bytes a number instead of about
 * 20 characters of text each, which PostgreSQL would parse again (a 1,536-number vector is
 * 6 KB instead of 32 KB, and neither side formats or parses floats). node-postgres sends a
 * `Buffer` parameter in binary format; PostgreSQL then reads it with the type's receive
 * function (`vector_recv`, `array_recv`).
 */

/** One `vector` value: dimension count (int16), an unused int16, then float4 values, big-endian. */
export function vectorBinary(vector: readonly number[]): Buffer {
  const buffer = Buffer.allocUnsafe(4 + 4 * vector.length);
  buffer.writeInt16BE(vector.length, 0);
  buffer.writeInt16BE(0, 2);
  writeFloats(buffer, 4, vector);
  return buffer;
}

/**
 * A one-dimensional `vector[]` value of `vectors` (none null): the array header with the
 * element type's OID, then each element's length and its `vector` bytes.
 */
export function vectorArrayBinary(vectors: readonly (readonly number[])[], oid: number): Buffer {
  let size = 20;
  for (const vector of vectors) size += 8 + 4 * vector.length;
  const buffer = Buffer.allocUnsafe(size);
  buffer.writeInt32BE(1, 0); // dimensions of the array
  buffer.writeInt32BE(0, 4); // no nulls
  buffer.writeUInt32BE(oid, 8);
  buffer.writeInt32BE(vectors.length, 12);
  buffer.writeInt32BE(1, 16); // lower bound
  let offset = 20;
  for (const vector of vectors) {
    buffer.writeInt32BE(4 + 4 * vector.length, offset);
    buffer.writeInt16BE(vector.length, offset + 4);
    buffer.writeInt16BE(0, offset + 6);
    offset = writeFloats(buffer, offset + 8, vector);
  }
  return buffer;
}

function writeFloats(buffer: Buffer, start: number, vector: readonly number[]): number {
  let offset = start;
  for (let index = 0; index < vector.length; index++) {
    buffer.writeFloatBE(vector[index]!, offset);
    offset += 4;
  }
  return offset;
}
