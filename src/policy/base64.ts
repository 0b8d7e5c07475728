// Strict base64 (RFC 4648 §4) over bytes: the alphabet only, canonical "="
// padding at the very end, zero pad bits. CR and LF are skipped (they only
// break lines in armor), every other byte is an error. One pass, no copies
// of the input.

const CR = 0x0d;
const LF = 0x0a;
const PAD = 0x3d;

const VALUE = new Int8Array(256).fill(-1);
for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].entries()) {
  VALUE[c.charCodeAt(0)] = i;
}

/** Decodes `buf[start, end)` ignoring CR and LF; null unless canonical base64. */
export function decodeBase64Lines(buf: Uint8Array, start = 0, end = buf.length): Buffer | null {
  const out = Buffer.allocUnsafe(Math.ceil(((end - start) * 3) / 4));
  let o = 0;
  let acc = 0;
  let n = 0; // sextets in `acc`
  let pad = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c === CR || c === LF) continue;
    if (c === PAD) {
      pad++;
      continue;
    }
    const v = VALUE[c] as number;
    if (v < 0 || pad > 0) return null;
    acc = (acc << 6) | v;
    if (++n === 4) {
      out[o++] = acc >> 16;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      n = 0;
    }
  }
  if (pad === 0 && n === 0) return out.subarray(0, o);
  if (pad === 1 && n === 3 && (acc & 0x03) === 0) {
    out[o++] = acc >> 10;
    out[o++] = (acc >> 2) & 0xff;
    return out.subarray(0, o);
  }
  if (pad === 2 && n === 2 && (acc & 0x0f) === 0) {
    out[o++] = acc >> 4;
    return out.subarray(0, o);
  }
  return null;
}

/** `decodeBase64Lines` for a string (latin1); null unless canonical base64. */
export function decodeBase64Strict(s: string): Buffer | null {
  if (/[\r\n]/.test(s)) return null;
  return decodeBase64Lines(Buffer.from(s, "latin1"));
}
