import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fmix32, hashString } from './hash.js';

/** MurmurHash3_x86_32 over bytes, written straight from the reference C code. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  for (let b = 0; b < blocks; b++) {
    const o = b * 4;
    let k =
      (bytes[o] as number) |
      ((bytes[o + 1] as number) << 8) |
      ((bytes[o + 2] as number) << 16) |
      ((bytes[o + 3] as number) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (bytes[tail + 2] as number) << 16;
    if (rest >= 2) k ^= (bytes[tail + 1] as number) << 8;
    k ^= bytes[tail] as number;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= bytes.length;
  return fmix32(h);
}

const utf16le = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

describe('hashString', () => {
  it('the byte reference matches published MurmurHash3_x86_32 vectors', () => {
    const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    expect(murmur3Bytes(new Uint8Array(0), 0)).toBe(0);
    expect(murmur3Bytes(new Uint8Array(0), 1)).toBe(0x514e28b7);
    expect(murmur3Bytes(new Uint8Array(0), 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3Bytes(new Uint8Array(4), 0)).toBe(0x2362f9de);
    expect(murmur3Bytes(ascii('aaaa'), 0x9747b28c)).toBe(0x5a97808a);
    expect(murmur3Bytes(ascii('Hello, world!'), 0x9747b28c)).toBe(0x24884cba);
    expect(murmur3Bytes(ascii('The quick brown fox jumps over the lazy dog'), 0x9747b28c)).toBe(0x2fa826cd);
  });

  it('is MurmurHash3_x86_32 of the UTF-16LE bytes, for any string and seed', () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 40 }), fc.integer(), (s, seed) => {
        expect(hashString(s, seed)).toBe(murmur3Bytes(utf16le(s), seed));
      }),
    );
    expect(hashString('\u0000\u0000', 0)).toBe(0x2362f9de); // four zero bytes
  });

  it('returns unsigned 32-bit integers and depends on the seed', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const h = hashString(s);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
      }),
    );
    expect(hashString('user-42', 1)).not.toBe(hashString('user-42', 2));
  });

  it('spreads near-identical keys evenly over high and low bits', () => {
    const buckets = 64;
    const n = 64_000;
    const high = new Array<number>(buckets).fill(0);
    const low = new Array<number>(buckets).fill(0);
    for (let i = 0; i < n; i++) {
      const h = hashString(`10.0.${i >> 8}.${i & 255}:8080`);
      high[h >>> 26] = (high[h >>> 26] as number) + 1;
      low[h & 63] = (low[h & 63] as number) + 1;
    }
    const chiSquare = (counts: number[]) => counts.reduce((s, c) => s + (c - n / buckets) ** 2 / (n / buckets), 0);
    // 63 degrees of freedom: the 99.9th percentile is about 104.
    expect(chiSquare(high)).toBeLessThan(104);
    expect(chiSquare(low)).toBeLessThan(104);
  });
});

describe('fmix32', () => {
  it('is a bijection on a sample (no collisions among 100 000 consecutive inputs)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(fmix32(i));
    expect(seen.size).toBe(100_000);
    expect(fmix32(0)).toBe(0);
  });
});
