// Header section scanner (RFC 5322 §2.2, §3.6): splits a header block into
// fields by bytes, keeping exact offsets so callers can rewrite header lines
// without touching anything else. Total: every byte sequence gives a result;
// lines that are not fields are kept as `malformed` entries.

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

export interface HeaderField {
  /** Field name as written (without trailing WSP); "" for a malformed line. */
  name: string;
  /** Lower-cased name, for lookups. */
  lname: string;
  /** Unfolded value (RFC 5322 §2.2.3), leading and trailing whitespace removed. */
  value: string;
  /** Offset of the first byte of the field. */
  start: number;
  /** Offset after the line ending of the field's last line. */
  end: number;
  /** Offset after the field's first line ending (start of any continuation). */
  firstLineEnd: number;
  /** The line ending of the first line: "\r\n", "\n" or "" (end of data). */
  eol: string;
  /** True for a line that is neither a field nor a continuation. */
  malformed: boolean;
}

export interface HeaderSection {
  fields: HeaderField[];
  /** Offset of the first body byte (after the empty line), or `end`. */
  bodyStart: number;
  /** True when an empty line ended the header section. */
  hasSeparator: boolean;
  /** Number of malformed lines. */
  malformed: number;
  /** Scanning stopped early (a limit in `ScanOptions` was hit). */
  truncated: boolean;
}

export interface ScanOptions {
  /** Stop when the header section grows past this many bytes. */
  maxBytes?: number;
  /** Stop at the first malformed line. */
  stopAtMalformed?: boolean;
  /**
   * Count a line holding a bare CR (one not followed by LF) as malformed: RFC
   * 5322 §2.2 allows CR only in CRLF, and readers disagree on whether a bare CR
   * ends a line (Python's email package: yes; this scanner, mailparse: no).
   */
  bareCrMalformed?: boolean;
}

interface Line {
  start: number;
  contentEnd: number;
  next: number;
  eol: string;
}

function readLine(buf: Buffer, pos: number, end: number): Line {
  let lf = buf.indexOf(LF, pos);
  if (lf === -1 || lf >= end) lf = -1;
  if (lf === -1) return { start: pos, contentEnd: end, next: end, eol: "" };
  if (lf > pos && buf[lf - 1] === CR) return { start: pos, contentEnd: lf - 1, next: lf + 1, eol: "\r\n" };
  return { start: pos, contentEnd: lf, next: lf + 1, eol: "\n" };
}

// RFC 5322 §3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126.
// Obsolete syntax (§4.5) allows WSP between the name and the colon.
function fieldName(buf: Buffer, start: number, contentEnd: number): { name: string; colon: number } | null {
  let colon = start;
  while (colon < contentEnd && buf[colon] !== COLON) colon++;
  if (colon === contentEnd) return null;
  let nameEnd = colon;
  while (nameEnd > start && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HT)) nameEnd--;
  if (nameEnd === start) return null;
  for (let i = start; i < nameEnd; i++) {
    const c = buf[i] as number;
    if (c < 33 || c > 126) return null;
  }
  return { name: buf.toString("latin1", start, nameEnd), colon };
}

function unfold(buf: Buffer, from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && (buf[a] === SP || buf[a] === HT)) a++;
  while (b > a && (buf[b - 1] === SP || buf[b - 1] === HT || buf[b - 1] === CR || buf[b - 1] === LF)) b--;
  const text = buf.toString("utf8", a, b);
  // Unfolding removes the line breaks; continuation lines keep their WSP.
  return text.includes("\n") ? text.replace(/\r?\n/g, "") : text;
}

/** Whether `buf[from, to)` holds a CR (searching only that range: linear over all lines). */
function hasCr(buf: Buffer, from: number, to: number): boolean {
  return from < to && buf.subarray(from, to).indexOf(CR) !== -1;
}

/**
 * Scans the header section in `buf[start, end)`. When a limit stops the scan,
 * `truncated` is set and `bodyStart` is where scanning stopped.
 */
export function scanHeaders(
  buf: Buffer,
  start = 0,
  end = buf.length,
  options: ScanOptions = {},
): HeaderSection {
  const fields: HeaderField[] = [];
  const valueStarts: number[] = [];
  const limit = options.maxBytes === undefined ? end : Math.min(end, start + options.maxBytes);
  let pos = start;
  let malformed = 0;
  let bodyStart = end;
  let hasSeparator = false;
  let truncated = false;
  let last: HeaderField | undefined;
  while (pos < end) {
    if (pos >= limit || (options.stopAtMalformed === true && malformed > 0)) {
      truncated = true;
      bodyStart = pos;
      break;
    }
    const line = readLine(buf, pos, end);
    if (line.contentEnd === line.start && line.eol !== "") {
      bodyStart = line.next;
      hasSeparator = true;
      break;
    }
    if (line.next > limit) {
      truncated = true; // this line would cross the limit
      bodyStart = pos;
      break;
    }
    const first = buf[pos];
    const bareCr = options.bareCrMalformed === true && hasCr(buf, line.start, line.contentEnd);
    if ((first === SP || first === HT) && last !== undefined) {
      last.end = line.next; // continuation line (folding)
      if (bareCr && !last.malformed) {
        last.malformed = true;
        malformed++;
      }
    } else {
      const parsed = first === SP || first === HT ? null : fieldName(buf, line.start, line.contentEnd);
      const field: HeaderField = {
        name: parsed?.name ?? "",
        lname: parsed?.name.toLowerCase() ?? "",
        value: "",
        start: line.start,
        end: line.next,
        firstLineEnd: line.next,
        eol: line.eol,
        malformed: parsed === null || bareCr,
      };
      if (field.malformed) malformed++;
      fields.push(field);
      valueStarts.push(parsed === null ? line.start : parsed.colon + 1);
      last = field;
    }
    pos = line.next;
  }
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as HeaderField;
    if (!f.malformed) f.value = unfold(buf, valueStarts[i] as number, f.end);
    else if (f.name !== "") {
      f.name = "";
      f.lname = "";
    }
  }
  return { fields, bodyStart, hasSeparator, malformed, truncated };
}

/** Values of all well-formed fields called `name` (case-insensitive), in order. */
export function headerValues(section: HeaderSection, name: string): string[] {
  const lname = name.toLowerCase();
  const out: string[] = [];
  for (const f of section.fields) if (!f.malformed && f.lname === lname) out.push(f.value);
  return out;
}

/** Value of the first field called `name`, or undefined. */
export function firstHeader(section: HeaderSection, name: string): string | undefined {
  const lname = name.toLowerCase();
  for (const f of section.fields) if (!f.malformed && f.lname === lname) return f.value;
  return undefined;
}
