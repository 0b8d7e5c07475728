// Text for SEARCH (RFC 3501 §6.4.4): header values and decoded body text.

import { decodeBytes, decodeEncodedWords } from "./charset.ts";
import { unfoldedValue } from "./fields.ts";
import type { MimePart } from "./parse.ts";

export interface HeaderValueOptions {
  /** Decode RFC 2047 encoded-words (default false: the value as sent, read as UTF-8). */
  decode?: boolean;
}

/**
 * The values of every `name` field of the part's header (case-insensitive
 * name), unfolded and trimmed, in header order. Never throws.
 */
export function headerValues(
  raw: Buffer,
  part: MimePart,
  name: string,
  options: HeaderValueOptions = {},
): string[] {
  try {
    const want = name.toLowerCase();
    const out: string[] = [];
    for (const f of part.fields) {
      if (f.name.toLowerCase() !== want) continue;
      const v = unfoldedValue(raw, f);
      out.push(options.decode ? decodeEncodedWords(v) : Buffer.from(v, "latin1").toString("utf8"));
    }
    return out;
  } catch {
    return [];
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * RFC 2045 §6.7 quoted-printable, lenient: a broken escape is kept as is;
 * whitespace at the end of an encoded line is padding and dropped (rule 3).
 */
export function decodeQuotedPrintable(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  let kept = 0; // output before this offset is not trailing padding
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x0a) {
      const cr = o > kept && out[o - 1] === 0x0d;
      if (cr) o--;
      while (o > kept && (out[o - 1] === 0x20 || out[o - 1] === 0x09)) o--;
      if (cr) out[o++] = 0x0d;
      out[o++] = c;
      kept = o;
      continue;
    }
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    // soft line break: "=" [whitespace] (CR)LF
    let j = i + 1;
    while (j < src.length && (src[j] === 0x20 || src[j] === 0x09)) j++;
    if (src[j] === 0x0a || (src[j] === 0x0d && src[j + 1] === 0x0a)) {
      i = src[j] === 0x0a ? j : j + 1;
      kept = o;
      continue;
    }
    const hi = hexValue(src[i + 1] ?? -1);
    const lo = hexValue(src[i + 2] ?? -1);
    if (hi >= 0 && lo >= 0) {
      out[o++] = hi * 16 + lo;
      i += 2;
      kept = o;
    } else {
      out[o++] = c;
    }
  }
  return out.subarray(0, o);
}

/** A part's body with its Content-Transfer-Encoding undone. */
export function decodedBody(raw: Buffer, part: MimePart): Buffer {
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  const enc = part.encoding?.toLowerCase();
  if (enc === "base64") return Buffer.from(body.toString("latin1"), "base64");
  if (enc === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

/**
 * The decoded text of all text/* parts (also inside message/rfc822 parts),
 * in message order, joined by newlines. Never throws.
 */
export function bodyText(raw: Buffer, part: MimePart): string {
  const texts: string[] = [];
  const todo: MimePart[] = [part];
  try {
    while (todo.length > 0) {
      const p = todo.pop() as MimePart;
      if (p.kind === "multipart") {
        for (let i = p.children.length - 1; i >= 0; i--) todo.push(p.children[i]);
      } else if (p.kind === "message") {
        if (p.message !== null) todo.push(p.message);
      } else if (p.kind === "text") {
        texts.push(decodeBytes(decodedBody(raw, p), p.params.charset));
      }
    }
  } catch {
    // best effort: what was decoded so far
  }
  return texts.join("\n");
}
