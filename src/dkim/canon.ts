/** DKIM canonicalization: "relaxed" headers and "simple" body (RFC 6376 §3.4). */
import { createHash } from "node:crypto";
import type { HeaderField } from "./message.ts";

/**
 * RFC 6376 §3.4.2: lower-case the name, unfold, collapse WSP runs to one SP, drop WSP at
 * the end of the value and around the colon. Input and output are latin1 text; the output
 * ends in CRLF.
 */
export function relaxedHeader(raw: string): string {
  const colon = raw.indexOf(":");
  let end = colon;
  while (end > 0 && (raw[end - 1] === " " || raw[end - 1] === "\t")) end--; // not /[ \t]+$/: quadratic
  const name = raw.slice(0, end).toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, "")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
  return `${name}:${value}\r\n`;
}

/**
 * RFC 6376 §5.4.2: for each name in h=, take the bottom-most instance not taken yet;
 * a name without a remaining instance contributes nothing (this is what makes oversigning work).
 */
export function selectSignedFields(fields: HeaderField[], names: string[]): HeaderField[] {
  // Instances per name, top to bottom; taking from the end takes the bottom-most unused
  // one. O(fields + names), where a scan per name would be O(fields × names).
  const byKey = new Map<string, HeaderField[]>();
  for (const f of fields) {
    const list = byKey.get(f.key);
    if (list === undefined) byKey.set(f.key, [f]);
    else list.push(f);
  }
  const out: HeaderField[] = [];
  for (const name of names) {
    const f = byKey.get(name.toLowerCase())?.pop();
    if (f !== undefined) out.push(f);
  }
  return out;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * RFC 6376 §3.4.3 "simple" body: drop all empty lines at the end, then end with exactly one
 * CRLF (an empty body becomes CRLF). Hashes slices of the message without copying it.
 */
export function simpleBodyHash(message: Buffer, bodyOffset: number): string {
  let end = message.length;
  while (end - 2 >= bodyOffset && message[end - 2] === CR && message[end - 1] === LF) end -= 2;
  const hash = createHash("sha256");
  const CHUNK = 1 << 20;
  for (let i = bodyOffset; i < end; i += CHUNK) hash.update(message.subarray(i, Math.min(end, i + CHUNK)));
  hash.update("\r\n");
  return hash.digest("base64");
}
