// Best-effort charset decoding for SEARCH text and decoded parameters.

import { TextDecoder } from "node:util";
import libmime from "libmime";

const decoders = new Map<string, TextDecoder>();

function decoderFor(charset: string): TextDecoder {
  let label = charset.trim().toLowerCase();
  // us-ascii mislabels are common; UTF-8 is a superset of valid ASCII.
  if (label === "" || label === "us-ascii" || label === "ascii" || label === "7bit") label = "utf-8";
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = decoders.get("utf-8") ?? new TextDecoder("utf-8");
    }
    if (decoders.size < 64) decoders.set(label, d);
  }
  return d;
}

/** Decodes bytes in `charset`; unknown charsets are read as UTF-8. Never throws. */
export function decodeBytes(buf: Uint8Array, charset: string | undefined): string {
  try {
    return decoderFor(charset ?? "").decode(buf);
  } catch {
    return Buffer.from(buf).toString("utf8");
  }
}

/** A binary (latin1) string's bytes read as UTF-8. */
export function binaryToUtf8(s: string): string {
  return Buffer.from(s, "latin1").toString("utf8");
}

/** RFC 2047 encoded-words decoded; input is a binary string. Never throws. */
export function decodeEncodedWords(s: string): string {
  const text = binaryToUtf8(s);
  if (!text.includes("=?")) return text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

/** RFC 2231 §4 `charset'language'%XX` value to text. Never throws. */
export function decodeRfc2231(value: string): string {
  const q1 = value.indexOf("'");
  const q2 = q1 < 0 ? -1 : value.indexOf("'", q1 + 1);
  const charset = q2 < 0 ? "utf-8" : value.slice(0, q1);
  const encoded = q2 < 0 ? value : value.slice(q2 + 1);
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return decodeBytes(Uint8Array.from(bytes), charset);
}
