// The top-level MIME shape of a message, as the encryption gate needs it:
// the top-level header section, its Content-Type, and for a multipart body
// the parts one level down (RFC 2046 §5.1.1), each with its own headers and
// body. Bytes are scanned, never searched as text, so a boundary or a
// Content-Type line inside a body cannot change the structure. Total: bad
// input yields `{ ok: false }` or flags on the shape, never an exception.

import { spaceBeforeColon, unclearContentType, unclearTransferEncoding } from "./ambiguity.ts";
import { type ContentType, DEFAULT_CONTENT_TYPE, parseContentType } from "./content-type.ts";
import { type HeaderSection, headerValues, scanHeaders } from "./headers.ts";

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const DASH = 0x2d;

export interface MimeEntity {
  headers: HeaderSection;
  contentType: ContentType;
  /**
   * More than one Content-Type or Content-Transfer-Encoding field, a duplicated parameter, a
   * control character or a construct MIME parsers read differently in them (ambiguity.ts); at
   * the top level also a line that starts with the delimiter without being one.
   */
  ambiguous: boolean;
  /** The body bytes (a view into the message, not a copy). */
  body: Buffer;
}

export interface MimePart extends MimeEntity {
  /** A line in the part's header section was neither a field nor a continuation. */
  malformed: boolean;
}

export interface MimeShape extends MimeEntity {
  raw: Buffer;
  /** The parts of a multipart body (at most MAX_PARTS); null if not multipart or without a boundary. */
  parts: MimePart[] | null;
  /** True when the multipart body ended with a close delimiter. */
  closed: boolean;
  /** True when the body had more than MAX_PARTS parts and the rest was not parsed. */
  tooManyParts: boolean;
}

/**
 * Limits that keep a hostile message from holding the event loop: the gate
 * needs at most two parts, and real header sections are far smaller.
 */
export const MAX_PARTS = 100;
export const MAX_HEADER_BYTES = 256 * 1024;
export const MAX_PART_HEADER_BYTES = 64 * 1024;

export type MimeShapeResult = { ok: true; shape: MimeShape } | { ok: false; error: string };

function entityType(buf: Buffer, headers: HeaderSection): { contentType: ContentType; ambiguous: boolean } {
  const types = headerValues(headers, "content-type");
  const encodings = headerValues(headers, "content-transfer-encoding");
  const contentType = types.length === 0 ? DEFAULT_CONTENT_TYPE : parseContentType(types[0] as string);
  // A control character other than HT (a bare CR, say) is outside RFC 5322 §3.2.2's
  // syntax, and MIME parsers read such a value differently.
  const controls = [...types, ...encodings].some((v) => /[\x00-\x08\x0a-\x1f\x7f]/.test(v));
  // Comments, encoded words, quoting and the like: see ambiguity.ts.
  const unclear =
    types.some((v) => unclearContentType(v) !== null) ||
    encodings.some((v) => unclearTransferEncoding(v) !== null) ||
    // WSP before any field's colon: Python's email package ends the header
    // section at such a line (the rest becomes body), mailparse keeps it as a field
    headers.fields.some((f) => !f.malformed && spaceBeforeColon(buf, f.start, f.name.length));
  const ambiguous =
    types.length > 1 || encodings.length > 1 || contentType.duplicateParams || controls || unclear;
  return { contentType, ambiguous };
}

function isWsp(c: number | undefined): boolean {
  return c === SP || c === HT;
}

interface Delimiter {
  /** Offset where the delimiter line starts ("--boundary"). */
  lineStart: number;
  /** Offset after the delimiter line's line ending. */
  next: number;
  close: boolean;
}

// RFC 2046 §5.1.1: a delimiter is "--" boundary at the start of a line,
// followed by optional transport padding (LWSP) and the line end; the close
// delimiter has "--" right after the boundary. `lfDelim` is LF + delimiter,
// so the native search skips occurrences that do not start a line.
function findDelimiter(
  buf: Buffer,
  delim: Buffer,
  lfDelim: Buffer,
  from: number,
  bodyStart: number,
  seen: { nearMiss: boolean },
): Delimiter | null {
  const end = buf.length;
  let idx =
    from === bodyStart && buf.subarray(bodyStart, bodyStart + delim.length).equals(delim) ? bodyStart : -1;
  let searchFrom = Math.max(from - 1, bodyStart);
  for (;;) {
    if (idx === -1) {
      const lf = buf.indexOf(lfDelim, searchFrom);
      if (lf === -1) return null;
      idx = lf + 1;
    }
    searchFrom = idx;
    let p = idx + delim.length;
    const close = p + 1 < end && buf[p] === DASH && buf[p + 1] === DASH;
    if (close) p += 2;
    let q = p;
    while (q < end && isWsp(buf[q])) q++;
    if (q < end && buf[q] === CR && q + 1 < end && buf[q + 1] === LF) q += 2;
    else if (q < end && buf[q] === LF) q += 1;
    else if (q < end) {
      if (!close) {
        // "--boundaryX" is not a delimiter here, but Dovecot and mailparse (Delta
        // Chat's parser) match the boundary as a line prefix: flag it.
        seen.nearMiss = true;
        idx = -1;
        continue;
      }
      const lf = buf.indexOf(LF, q);
      q = lf === -1 ? end : lf + 1; // close delimiter: rest of the line is epilogue
    }
    return { lineStart: idx, next: q, close };
  }
}

/** The line ending that precedes a delimiter belongs to the delimiter (RFC 2046 §5.1.1). */
function partEnd(buf: Buffer, partStart: number, lineStart: number): number {
  let e = lineStart;
  if (e > partStart && buf[e - 1] === LF) e--;
  if (e > partStart && buf[e - 1] === CR) e--;
  return e;
}

function parsePart(buf: Buffer, start: number, end: number): MimePart {
  const headers = scanHeaders(buf, start, end, {
    maxBytes: MAX_PART_HEADER_BYTES,
    stopAtMalformed: true,
    bareCrMalformed: true,
  });
  const { contentType, ambiguous } = entityType(buf, headers);
  return {
    headers,
    contentType,
    ambiguous,
    body: buf.subarray(headers.bodyStart, end),
    malformed: headers.malformed > 0 || headers.truncated,
  };
}

interface Split {
  parts: MimePart[];
  closed: boolean;
  tooManyParts: boolean;
  /** A line started with the delimiter but was not one: parsers disagree on the parts. */
  nearMiss: boolean;
}

function splitMultipart(buf: Buffer, bodyStart: number, boundary: string): Split {
  const end = buf.length;
  const delim = Buffer.from(`--${boundary}`, "utf8");
  const lfDelim = Buffer.concat([Buffer.from([LF]), delim]);
  const parts: MimePart[] = [];
  const seen = { nearMiss: false };
  let d = findDelimiter(buf, delim, lfDelim, bodyStart, bodyStart, seen);
  while (d !== null && !d.close) {
    if (parts.length === MAX_PARTS)
      return { parts, closed: false, tooManyParts: true, nearMiss: seen.nearMiss };
    const start = d.next;
    const next = findDelimiter(buf, delim, lfDelim, start, bodyStart, seen);
    if (next === null) {
      parts.push(parsePart(buf, start, end)); // missing close delimiter: part runs to the end
      return { parts, closed: false, tooManyParts: false, nearMiss: seen.nearMiss };
    }
    parts.push(parsePart(buf, start, partEnd(buf, start, next.lineStart)));
    d = next;
  }
  return { parts, closed: d !== null, tooManyParts: false, nearMiss: seen.nearMiss };
}

/** Parses the top-level MIME shape of `raw`. */
export function parseMimeShape(raw: Buffer): MimeShapeResult {
  if (raw.length === 0) return { ok: false, error: "empty message" };
  const headers = scanHeaders(raw, 0, raw.length, {
    maxBytes: MAX_HEADER_BYTES,
    stopAtMalformed: true,
    bareCrMalformed: true,
  });
  if (headers.malformed > 0) {
    const bad = headers.fields.findIndex((f) => f.malformed);
    return { ok: false, error: `malformed header line ${bad + 1}` };
  }
  if (headers.truncated) return { ok: false, error: "header section larger than 256 KiB" };
  const { contentType, ambiguous } = entityType(raw, headers);
  const body = raw.subarray(headers.bodyStart);
  let split: Split | null = null;
  const boundary = contentType.params.boundary;
  if (contentType.mime.startsWith("multipart/") && boundary !== undefined && boundary !== "") {
    split = splitMultipart(raw, headers.bodyStart, boundary);
  }
  return {
    ok: true,
    shape: {
      raw,
      headers,
      contentType,
      ambiguous: ambiguous || (split?.nearMiss ?? false),
      body,
      parts: split?.parts ?? null,
      closed: split?.closed ?? false,
      tooManyParts: split?.tooManyParts ?? false,
    },
  };
}

export function isMultipart(entity: MimeEntity): boolean {
  return entity.contentType.mime.startsWith("multipart/");
}

const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

// RFC 2045 §6.7 quoted-printable: "=XX" is an octet, "=" at the line end is a soft break.
function decodeQuotedPrintable(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as number;
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    let j = i + 1;
    while (j < body.length && isWsp(body[j])) j++;
    if (j < body.length && body[j] === CR && body[j + 1] === LF) {
      i = j + 1;
      continue;
    }
    if (j < body.length && body[j] === LF) {
      i = j;
      continue;
    }
    if (j >= body.length) {
      i = j;
      continue;
    }
    const hex = body.toString("latin1", i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = Number.parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** The body with its Content-Transfer-Encoding (RFC 2045 §6) undone; null if unknown or invalid. */
export function decodedBody(entity: MimeEntity): Buffer | null {
  const cte = (headerValues(entity.headers, "content-transfer-encoding")[0] ?? "7bit").trim().toLowerCase();
  switch (cte) {
    case "7bit":
    case "8bit":
    case "binary":
      return entity.body;
    case "base64": {
      const text = entity.body.toString("latin1");
      if (!BASE64_BODY.test(text)) return null;
      return Buffer.from(text.replace(/\s+/g, ""), "base64");
    }
    case "quoted-printable":
      return decodeQuotedPrintable(entity.body);
    default:
      return null;
  }
}
