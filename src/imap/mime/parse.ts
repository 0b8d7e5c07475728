// MIME structure of a message as byte offsets into the raw message
// (RFC 2045, RFC 2046 §5.1 multipart, §5.2.1 message/rfc822), following the
// boundary rules of Dovecot's message-parser so BODYSTRUCTURE and BODY[n]
// match Dovecot:
// - a line starting with "--" + any active boundary (of this part or of an
//   enclosing one; the longest one wins, the innermost on a tie) ends the
//   current part; "--boundary--" closes the multipart and the rest up to an
//   outer boundary is its epilogue;
// - the [CR]LF before a boundary line belongs to the boundary, not the part;
// - a missing closing boundary closes the parts at the end of the message;
// - a boundary line inside a part's header ends the header there.
// Total: any input gives a structure, nothing throws.

import { decodeParams, type MimeParams, readContent } from "./content.ts";
import { type HeaderField, readField } from "./fields.ts";

export type { MimeParams } from "./content.ts";
export type { HeaderField } from "./fields.ts";

export type MimeKind = "text" | "multipart" | "message" | "other";

export interface MimePart {
  /** Offset of the part's header (for a multipart child: just after the boundary line). */
  headerStart: number;
  /** Offset just past the header, including the empty line that ends it when there is one. */
  headerEnd: number;
  /** Same as headerEnd. */
  bodyStart: number;
  /** Offset just past the body (the [CR]LF before a boundary line is not part of it). */
  bodyEnd: number;
  /** Number of LF in the body (counted when first read). */
  readonly lines: number;
  /** Header fields in order. */
  fields: HeaderField[];
  /** How the part is parsed: multipart has children, message has an encapsulated message. */
  kind: MimeKind;
  /** Effective lower-case type and subtype (text/plain when absent; message/rfc822 in a digest). */
  type: string;
  subtype: string;
  /** Content-Type parameters: lower-case names, RFC 2231 / RFC 2047 decoded. */
  params: Record<string, string>;
  /** The following are as written (binary strings), null when absent or the part is not MIME. */
  contentType: { type: string; subtype: string; params: MimeParams } | null;
  /** Content-Transfer-Encoding token. */
  encoding: string | null;
  id: string | null;
  description: string | null;
  md5: string | null;
  location: string | null;
  disposition: { type: string; params: MimeParams } | null;
  language: string[] | null;
  /** Body parts of a multipart. */
  children: MimePart[];
  /** The encapsulated message of message/rfc822 (and message/global). */
  message: MimePart | null;
}

/** Parts nested deeper than this, or beyond MAX_PARTS, are not split further. */
export const MAX_DEPTH = 100;
export const MAX_PARTS = 10000;

/** The raw message a part was parsed from. */
export function rawOf(part: MimePart): Buffer | undefined {
  return part instanceof Part ? part.raw : undefined;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const NL_DASHES = Buffer.from("\n--", "latin1");

interface Frame {
  part: MimePart;
  parent: Frame | null;
  depth: number;
  digest: boolean;
}

interface Boundary {
  frame: Frame;
  value: Buffer;
}

interface Hit {
  boundary: Boundary;
  closes: boolean;
}

class Part implements MimePart {
  headerStart: number;
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  fields: HeaderField[] = [];
  kind: MimeKind = "text";
  type = "text";
  subtype = "plain";
  params: Record<string, string> = {};
  contentType: MimePart["contentType"] = null;
  encoding: string | null = null;
  id: string | null = null;
  description: string | null = null;
  md5: string | null = null;
  location: string | null = null;
  disposition: MimePart["disposition"] = null;
  language: string[] | null = null;
  children: MimePart[] = [];
  message: MimePart | null = null;
  readonly #raw: Buffer;
  #lines = -1;

  constructor(raw: Buffer, at: number) {
    this.#raw = raw;
    this.headerStart = this.headerEnd = this.bodyStart = this.bodyEnd = at;
  }

  get raw(): Buffer {
    return this.#raw;
  }

  get lines(): number {
    if (this.#lines < 0) this.#lines = countLines(this.#raw, this.bodyStart, this.bodyEnd);
    return this.#lines;
  }
}

function countLines(raw: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = raw.indexOf(LF, start); i >= 0 && i < end; i = raw.indexOf(LF, i + 1)) n++;
  return n;
}

class Parser {
  readonly end: number;
  readonly stack: Boundary[] = [];
  parts = 1;

  constructor(readonly raw: Buffer) {
    this.end = raw.length;
  }

  /** The boundary whose delimiter line starts at `pos`, if any (RFC 2046 §5.1.1). */
  boundaryAt(pos: number): Hit | null {
    const raw = this.raw;
    if (this.stack.length === 0 || raw[pos] !== DASH || raw[pos + 1] !== DASH) return null;
    let best: Boundary | null = null;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const b = this.stack[i];
      const len = b.value.length;
      if (best !== null && best.value.length >= len) continue;
      if (pos + 2 + len > this.end) continue;
      if (raw.compare(b.value, 0, len, pos + 2, pos + 2 + len) === 0) best = b;
    }
    if (best === null) return null;
    const after = pos + 2 + best.value.length;
    return { boundary: best, closes: raw[after] === DASH && raw[after + 1] === DASH };
  }

  /** Reads the header of `f.part` at `pos`; returns the boundary line that cut it, if any. */
  header(f: Frame, pos: number): { hit: Hit; line: number } | null {
    const raw = this.raw;
    const part = f.part;
    const fields: HeaderField[] = [];
    let newline = 0;
    let p = pos;
    let cut: { hit: Hit; line: number } | null = null;
    let ended = false;
    for (;;) {
      if (p >= this.end) break;
      const c = raw[p];
      if (c === LF || (c === CR && raw[p + 1] === LF)) {
        p += c === LF ? 1 : 2;
        ended = true;
        break;
      }
      const hit = this.boundaryAt(p);
      if (hit !== null && hit.boundary.frame !== f) {
        // the [CR]LF before the boundary line belongs to the boundary
        cut = { hit, line: p };
        p -= newline;
        const last = fields[fields.length - 1];
        if (last !== undefined && last.end > p) last.end = p;
        break;
      }
      const r = readField(raw, p, this.end);
      fields.push(r.field);
      newline = r.newline;
      p = r.next;
    }
    part.fields = fields;
    part.headerEnd = part.bodyStart = part.bodyEnd = p;
    this.describe(f, ended);
    return cut;
  }

  /** Applies the Content-* fields and decides how the body is parsed. */
  describe(f: Frame, ended: boolean): void {
    const part = f.part;
    const inMultipart = f.parent !== null && f.parent.part.kind === "multipart";
    const c = readContent(this.raw, part.fields, inMultipart);
    let kind: MimeKind = "text";
    if (c.typeString === null) {
      // RFC 2046 §5.1.5: in a digest the default is message/rfc822
      kind = f.parent?.digest ? "message" : "text";
    } else {
      const t = c.typeString.toLowerCase();
      if (t === "message/rfc822" || t === "message/global") kind = "message";
      else if (t.startsWith("text") && (t.length === 4 || t[4] === "/")) kind = "text";
      else if (t.startsWith("multipart/")) kind = "multipart";
      else kind = "other";
      f.digest = t === "multipart/digest";
    }
    if ((kind === "multipart" || kind === "message") && (f.depth >= MAX_DEPTH || this.parts >= MAX_PARTS)) {
      kind = "other";
      f.digest = false;
    }
    part.kind = kind;
    part.contentType = c.contentType;
    part.encoding = c.encoding;
    part.id = c.id;
    part.description = c.description;
    part.md5 = c.md5;
    part.location = c.location;
    part.disposition = c.disposition;
    part.language = c.language;
    if (c.contentType !== null) {
      part.type = c.contentType.type.toLowerCase();
      part.subtype = c.contentType.subtype.toLowerCase();
      part.params = decodeParams(c.contentType.params);
    } else if (kind === "message") {
      part.type = "message";
      part.subtype = "rfc822";
    }
    if (kind === "multipart" && ended && c.boundary !== null) {
      this.stack.push({ frame: f, value: Buffer.from(c.boundary, "latin1") });
    }
  }

  child(parent: Frame, at: number): Frame {
    this.parts++;
    const part = new Part(this.raw, at);
    if (parent.part.kind === "message") parent.part.message = part;
    else parent.part.children.push(part);
    return { part, parent, depth: parent.depth + 1, digest: false };
  }

  close(f: Frame, bodyEnd: number): void {
    f.part.bodyEnd = bodyEnd;
  }

  /** Finds the next boundary line from `start` (a line start). */
  scan(start: number): { hit: Hit; line: number } | null {
    if (this.stack.length === 0) return null;
    let hit = this.boundaryAt(start);
    if (hit !== null) return { hit, line: start };
    for (let q = start; ; ) {
      const i = this.raw.indexOf(NL_DASHES, q);
      if (i < 0) return null;
      hit = this.boundaryAt(i + 1);
      if (hit !== null) return { hit, line: i + 1 };
      q = i + 1;
    }
  }

  run(): MimePart {
    const raw = this.raw;
    let f: Frame = { part: new Part(raw, 0), parent: null, depth: 0, digest: false };
    const root = f.part;
    let pos = 0;
    let inHeader = true;
    let scanStart = 0;
    for (;;) {
      let found: { hit: Hit; line: number; bodyEnd: number } | null = null;
      if (inHeader) {
        const cut = this.header(f, pos);
        if (cut !== null) {
          if (f.part.kind === "message") this.close(this.child(f, f.part.bodyStart), f.part.bodyStart);
          found = { hit: cut.hit, line: cut.line, bodyEnd: f.part.bodyStart };
        } else if (f.part.kind === "message") {
          f = this.child(f, f.part.bodyStart);
          pos = f.part.headerStart;
          continue;
        } else {
          inHeader = false;
          scanStart = f.part.bodyStart;
        }
      }
      if (found === null) {
        const s = this.scan(scanStart);
        if (s === null) {
          for (let x: Frame | null = f; x !== null; x = x.parent) this.close(x, this.end);
          return root;
        }
        let bodyEnd = s.line;
        if (s.line > scanStart) {
          bodyEnd = s.line - 1;
          if (bodyEnd > scanStart && raw[bodyEnd - 1] === CR) bodyEnd--;
        }
        found = { hit: s.hit, line: s.line, bodyEnd };
      }
      // close the parts inside the multipart that owns the boundary
      const owner = found.hit.boundary.frame;
      for (let x: Frame | null = f; x !== null && x !== owner; x = x.parent) this.close(x, found.bodyEnd);
      f = owner;
      const idx = this.stack.indexOf(found.hit.boundary);
      this.stack.length = found.hit.closes ? idx : idx + 1;
      const nl = raw.indexOf(LF, found.line);
      pos = nl < 0 ? this.end : nl + 1;
      if (!found.hit.closes && this.parts < MAX_PARTS) {
        f = this.child(f, pos);
        inHeader = true;
      } else {
        // epilogue (or too many parts): the rest belongs to the multipart
        if (!found.hit.closes) this.stack.length = idx;
        inHeader = false;
        scanStart = pos;
      }
    }
  }
}

/** Parses a raw message into its MIME tree. Never throws. */
export function parseMessage(raw: Buffer): MimePart {
  const u8: Uint8Array = raw;
  const bytes = Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  try {
    return new Parser(bytes).run();
  } catch {
    // not expected; an opaque text part is still a usable answer
    const part = new Part(bytes, 0);
    part.bodyEnd = bytes.length;
    return part;
  }
}
