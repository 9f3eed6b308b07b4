import { randomFillSync } from 'node:crypto';

let lastMilliseconds = 0;
let counter = 0;
/**
 * Random bytes drawn in bulk: one `randomBytes(16)` per id (a call into the system's generator
 * each time) was most of the time an `add` of one memory spent making its id.
 */
const randomPool = Buffer.alloc(16 * 256);
let randomOffset = randomPool.length;

/**
 * A UUID of version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter, then
 * random bits. Ids made by one process sort in the order they were made, even within one
 * millisecond, so memories written in one batch (the messages of one `add`, the items of one
 * `import`) keep their order where stores order by creation time, then id.
 */
export function timeOrderedId(now = Date.now()): string {
  if (now > lastMilliseconds) {
    lastMilliseconds = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    // More than 4,096 ids in one millisecond: borrow the next one rather than lose the order.
    lastMilliseconds += 1;
    counter = 0;
  }
  if (randomOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const bytes = randomPool.subarray(randomOffset, randomOffset + 16);
  randomOffset += 16;
  let milliseconds = lastMilliseconds;
  for (let index = 5; index >= 0; index--) {
    bytes[index] = milliseconds % 256;
    milliseconds = Math.floor(milliseconds / 256);
  }
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
