// BODY[<section>] contents (RFC 3501 §6.4.5 FETCH, section-spec).
// Part numbers walk multipart children; inside a message/rfc822 part the
// numbers continue in the encapsulated message, and part 1 of a message
// that is not multipart is its body. HEADER, HEADER.FIELDS and TEXT after a
// part number address the encapsulated message of a message/rfc822 part;
// MIME is the part's own header. A part that does not exist gives nothing.

import type { MimePart } from "./parse.ts";

export type SectionText = "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";

export interface SectionSpec {
  part: number[];
  text?: SectionText;
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT (case-insensitive). */
  fields?: string[];
}

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from("\r\n", "latin1");

/** The part a section number names, or null when there is none. */
export function findPart(root: MimePart, path: readonly number[]): MimePart | null {
  let part: MimePart | null = root;
  for (let i = 0; i < path.length && part !== null; i++) {
    const n = path[i];
    if (!Number.isInteger(n) || n < 1) return null;
    const more = i + 1 < path.length;
    if (part.kind === "multipart") {
      part = part.children[n - 1] ?? null;
    } else if (n !== 1 || (more && part.kind !== "message")) {
      return null;
    }
    if (part !== null && more && part.kind === "message") part = part.message;
  }
  return part;
}

function headerFields(raw: Buffer, part: MimePart, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const chunks: Buffer[] = [];
  for (const f of part.fields) {
    if (wanted.has(f.name.toLowerCase()) === not) continue;
    chunks.push(raw.subarray(f.start, f.end));
    if (f.end <= f.start || raw[f.end - 1] !== 0x0a) chunks.push(CRLF);
  }
  chunks.push(CRLF);
  return Buffer.concat(chunks);
}

/** The bytes of a BODY[section] (before any <partial>). Never throws. */
export function sectionBytes(raw: Buffer, root: MimePart, spec: SectionSpec): Buffer {
  try {
    const path = spec.part ?? [];
    if (path.length === 0 && spec.text === undefined) return raw;
    const part = path.length === 0 ? root : findPart(root, path);
    if (part === null) return EMPTY;
    if (spec.text === undefined) return raw.subarray(part.bodyStart, part.bodyEnd);
    if (spec.text === "MIME") {
      return path.length === 0 ? EMPTY : raw.subarray(part.headerStart, part.headerEnd);
    }
    const msg = path.length > 0 && part.kind === "message" && part.message !== null ? part.message : part;
    switch (spec.text) {
      case "HEADER":
        return raw.subarray(msg.headerStart, msg.headerEnd);
      case "TEXT":
        return raw.subarray(msg.bodyStart, msg.bodyEnd);
      case "HEADER.FIELDS":
        return headerFields(raw, msg, spec.fields ?? [], false);
      case "HEADER.FIELDS.NOT":
        return headerFields(raw, msg, spec.fields ?? [], true);
      default:
        return EMPTY;
    }
  } catch {
    return EMPTY;
  }
}

/** BODY[...]<offset.length>: the bytes from offset, at most length of them. */
export function partial(buf: Buffer, offset: number, length?: number): Buffer {
  const start = Number.isFinite(offset) && offset > 0 ? Math.floor(offset) : 0;
  if (start >= buf.length) return EMPTY;
  if (length === undefined || !Number.isFinite(length)) return buf.subarray(start);
  const n = length > 0 ? Math.floor(length) : 0;
  return buf.subarray(start, Math.min(buf.length, start + n));
}
