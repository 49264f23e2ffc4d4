/**
 * The 32-bit string hash the consistent-hash pickers use, for request keys and endpoint ids.
 *
 * Why MurmurHash3 (x86_32) rather than xxHash32 or FNV-1a: it mixes a 4-byte block with two
 * `Math.imul`s and two rotates, which V8 compiles to plain integer instructions, and its finaliser
 * avalanches well enough that ring points and Maglev offsets spread evenly even for ids that differ
 * in one character (`10.0.0.1:80` / `10.0.0.2:80`). FNV-1a is cheaper per character but its low
 * bits are weak for such near-identical keys; xxHash32 needs 16-byte stripes to pay off, and
 * request keys (user ids, session cookies) are short.
 *
 * The input is the string's UTF-16 code units read with `charCodeAt`, two per 4-byte block, so
 * nothing is allocated (no `TextEncoder`, no Buffer). The result is exactly MurmurHash3_x86_32 of
 * the string's UTF-16LE bytes — a documented, reproducible function, though not the same value as
 * hashing the UTF-8 bytes (Envoy hashes keys with xxHash64 anyway, so Weft does not try to agree
 * with other proxies on key placement).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3_x86_32 of `s`'s UTF-16LE bytes, as an unsigned 32-bit integer.
 *
 * @param s - the string to hash; any length, any code units (lone surrogates included).
 * @param seed - the 32-bit seed; different seeds give independent-looking hashes of the same string.
 */
export function hashString(s: string, seed = 0): number {
  const length = s.length;
  const pairs = length & ~1;
  let h = seed | 0;
  let i = 0;
  for (; i < pairs; i += 2) {
    // Two 16-bit code units make one little-endian 32-bit block.
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < length) {
    // A trailing code unit is a 2-byte tail.
    let k = s.charCodeAt(i);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length * 2; // Murmur mixes in the byte length.
  return fmix32(h) >>> 0;
}

/**
 * MurmurHash3's finaliser: a bijective mix of a 32-bit integer in which every input bit affects
 * every output bit. Used on its own to derive many well-spread values from one hash.
 */
export function fmix32(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
