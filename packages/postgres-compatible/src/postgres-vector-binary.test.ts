import { describe, expect, it } from 'vitest';
import { vectorArrayBinary, vectorBinary, vectorFromBinary } from './postgres-vector-binary.js';

describe('pgvector binary format', () => {
  it('writes one vector as dimensions, an unused int16 and big-endian float4 values', () => {
    const buffer = vectorBinary([1, -0.5, 0.1]);
    expect(buffer.length).toBe(4 + 12);
    expect(buffer.readInt16BE(0)).toBe(3);
    expect(buffer.readInt16BE(2)).toBe(0);
    expect([buffer.readFloatBE(4), buffer.readFloatBE(8), buffer.readFloatBE(12)]).toEqual([
      1,
      -0.5,
      Math.fround(0.1),
    ]);
  });

  it('reads back what vector_send returns, and refuses a buffer of the wrong length', () => {
    expect(vectorFromBinary(vectorBinary([1, -0.5, 0.1]))).toEqual([1, -0.5, Math.fround(0.1)]);
    expect(vectorFromBinary(vectorBinary([]))).toEqual([]);
    expect(() => vectorFromBinary(Buffer.from([0, 3, 0, 0, 1, 2]))).toThrow(
      /3 numbers needs 16 bytes, got 6/,
    );
    expect(() => vectorFromBinary(Buffer.alloc(2))).toThrow(/got 2/);
  });

  it('writes a vector[] with the array header, the element OID and each element', () => {
    const buffer = vectorArrayBinary(
      [
        [1, 2],
        [3, 4],
      ],
      4_000_000_000,
    );
    expect(buffer.length).toBe(20 + 2 * (8 + 8));
    expect(buffer.readInt32BE(0)).toBe(1);
    expect(buffer.readInt32BE(4)).toBe(0);
    expect(buffer.readUInt32BE(8)).toBe(4_000_000_000);
    expect(buffer.readInt32BE(12)).toBe(2);
    expect(buffer.readInt32BE(16)).toBe(1);
    expect(buffer.readInt32BE(20)).toBe(12);
    expect(buffer.readInt16BE(24)).toBe(2);
    expect(buffer.readFloatBE(28)).toBe(1);
    expect(buffer.readInt32BE(36)).toBe(12);
    expect(buffer.readFloatBE(48)).toBe(4);
  });

  it('writes an empty array', () => {
    const buffer = vectorArrayBinary([], 1);
    expect(buffer.length).toBe(20);
    expect(buffer.readInt32BE(12)).toBe(0);
  });
});
