/**
 * SHA-512 crypt ("$6$", Drepper's "Unix crypt using SHA-256 and SHA-512",
 * as glibc crypt(3)), the `{SHA512-CRYPT}` scheme of Dovecot password files.
 * Pure and synchronous: call it from a worker thread (hash-pool.ts).
 */
import { createHash, hash, randomBytes } from "node:crypto";

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ROUNDS_DEFAULT = 5000;

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Byte `n` bytes long made of repeated `digest` (the "P"/"S" sequences). */
function repeatTo(digest: Buffer, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, n - i));
  return out;
}

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = "";
  for (let i = 0; i < n; i++) {
    s += ITOA64[w & 0x3f];
    w >>= 6;
  }
  return s;
}

// Byte order of the final encoding, spec step 22 for SHA-512.
const ORDER: Array<[number, number, number]> = [];
for (let i = 0; i < 21; i++) {
  const t: [number, number, number] = [i, i + 21, i + 42];
  const k = i % 3;
  ORDER.push([t[k % 3]!, t[(k + 1) % 3]!, t[(k + 2) % 3]!]);
}

export function sha512Crypt(password: string, salt: string, rounds?: number): string {
  const key = Buffer.from(password, "utf8");
  const s = Buffer.from(salt.slice(0, 16), "utf8");
  const r = rounds === undefined ? ROUNDS_DEFAULT : Math.min(999999999, Math.max(1000, rounds));

  const b = sha512(key, s, key);
  const aHash = createHash("sha512").update(key).update(s);
  aHash.update(repeatTo(b, key.length));
  for (let n = key.length; n > 0; n >>= 1) aHash.update(n & 1 ? b : key);
  const a = aHash.digest();

  const dpHash = createHash("sha512");
  for (let i = 0; i < key.length; i++) dpHash.update(key);
  const p = repeatTo(dpHash.digest(), key.length);

  const dsHash = createHash("sha512");
  for (let i = 0; i < 16 + a[0]!; i++) dsHash.update(s);
  const sBytes = repeatTo(dsHash.digest(), s.length);

  // The rounds dominate the cost: each round's input is assembled in one
  // buffer and hashed in one call (crypto.hash, Node >= 20.12), about a third
  // cheaper than a Hash object with several update() calls.
  const scratch = Buffer.allocUnsafe(2 * 64 + 2 * p.length + sBytes.length);
  let c: Buffer = a;
  for (let i = 0; i < r; i++) {
    let n = (i & 1 ? p : c).copy(scratch, 0);
    if (i % 3) n += sBytes.copy(scratch, n);
    if (i % 7) n += p.copy(scratch, n);
    n += (i & 1 ? c : p).copy(scratch, n);
    c = hash("sha512", scratch.subarray(0, n), "buffer") as unknown as Buffer;
  }

  let out = "";
  for (const [x, y, z] of ORDER) out += b64From24(c[x]!, c[y]!, c[z]!, 4);
  out += b64From24(0, 0, c[63]!, 2);
  const roundsPart = rounds === undefined ? "" : `rounds=${r}$`;
  return `$6$${roundsPart}${salt.slice(0, 16)}$${out}`;
}

export function newSalt(): string {
  const bytes = randomBytes(16);
  let s = "";
  for (const byte of bytes) s += ITOA64[byte & 0x3f];
  return s;
}

/** Parses "$6$[rounds=N$]salt$hash"; undefined when it is not SHA-512 crypt. */
export function parseSha512Crypt(hash: string): { salt: string; rounds?: number } | undefined {
  const m = /^\$6\$(?:rounds=(\d+)\$)?([^$]{0,16})\$[./0-9A-Za-z]{86}$/.exec(hash);
  if (!m) return undefined;
  return { salt: m[2]!, rounds: m[1] === undefined ? undefined : Number(m[1]) };
}
