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
 * The numbers of one `vector` value in that format, as PostgreSQL's `vector_send(embedding)`
 * returns it (a `bytea`, which node-postgres hands over as a `Buffer`).
 */
export function vectorFromBinary(buffer: Buffer): number[] {
  const length = buffer.length >= 4 ? buffer.readInt16BE(0) : -1;
  if (length < 0 || buffer.length !== 4 + 4 * length) {
    throw new Error(
      `A vector in pgvector's binary format of ${length} numbers needs ${4 + 4 * length} bytes, got ${buffer.length}.`,
    );
  }
  const vector = new Array<number>(length);
  for (let index = 0; index < length; index++) vector[index] = buffer.readFloatBE(4 + 4 * index);
  return vector;
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
