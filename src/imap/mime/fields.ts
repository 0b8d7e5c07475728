// Header field scanning over raw bytes (RFC 5322 §2.2, §2.2.3 folding).
// Lines may end in CRLF or bare LF. A line without ':' is kept as a field
// whose name is the whole line, like Dovecot does.

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

export interface HeaderField {
  /** Field name as written (binary string), whitespace before ':' removed. */
  name: string;
  /** Offset of the field's first byte. */
  start: number;
  /** Offset just after ':' (equals `end` of the first line when there is no ':'). */
  valueStart: number;
  /** Offset just past the field's last line ending (or where the header was cut). */
  end: number;
}

export interface ReadField {
  field: HeaderField;
  /** Offset of the next line. */
  next: number;
  /** Size of the last line ending: 2 (CRLF), 1 (LF) or 0 (none, end of input). */
  newline: number;
}

/** Reads one field, with its continuation lines, starting at a non-empty line. */
export function readField(raw: Buffer, pos: number, end: number): ReadField {
  let colon = -1;
  let i = pos;
  for (; i < end; i++) {
    const c = raw[i];
    if (c === COLON) {
      colon = i;
      break;
    }
    if (c === LF) break;
  }
  let nl = i < end && raw[i] === LF ? i : raw.indexOf(LF, i);
  if (nl >= end) nl = -1;
  let lineEnd = nl < 0 ? end : nl + 1;
  let name: string;
  if (colon >= 0) {
    let n = colon;
    while (n > pos && (raw[n - 1] === SP || raw[n - 1] === TAB)) n--;
    name = raw.toString("latin1", pos, n);
  } else {
    let n = nl < 0 ? end : nl;
    if (n > pos && raw[n - 1] === CR) n--;
    name = raw.toString("latin1", pos, n);
  }
  const valueStart = colon >= 0 ? colon + 1 : lineEnd;
  // RFC 5322 §2.2.3: a line starting with WSP continues the field.
  while (nl >= 0 && lineEnd < end && (raw[lineEnd] === SP || raw[lineEnd] === TAB)) {
    nl = raw.indexOf(LF, lineEnd);
    if (nl >= end) nl = -1;
    lineEnd = nl < 0 ? end : nl + 1;
  }
  const newline = nl < 0 ? 0 : nl > pos && raw[nl - 1] === CR ? 2 : 1;
  return { field: { name, start: pos, valueStart, end: lineEnd }, next: lineEnd, newline };
}

const NUL_REPLACEMENT = "\xef\xbf\xbd"; // U+FFFD as UTF-8 bytes

/**
 * The field value the way Dovecot's header parser hands it on: initial
 * whitespace skipped, line endings dropped and continuation lines joined
 * with "\n" (their leading whitespace kept). Binary string.
 */
export function fullValue(raw: Buffer, f: HeaderField): string {
  if (f.valueStart >= f.end) return "";
  let out = "";
  let pos = f.valueStart;
  let first = true;
  while (pos < f.end) {
    let nl = raw.indexOf(LF, pos);
    if (nl < 0 || nl >= f.end) nl = -1;
    const lineEnd = nl < 0 ? f.end : nl;
    let contentEnd = lineEnd;
    if (nl >= 0 && contentEnd > pos && raw[contentEnd - 1] === CR) contentEnd--;
    if (first) {
      let s = pos;
      while (s < contentEnd && (raw[s] === SP || raw[s] === TAB)) s++;
      // a value of only whitespace loses just the one after ':'
      if (s === contentEnd && contentEnd > pos) s = pos + 1;
      out = raw.toString("latin1", s, contentEnd);
      first = false;
    } else {
      out += `\n${raw.toString("latin1", pos, contentEnd)}`;
    }
    pos = nl < 0 ? f.end : nl + 1;
  }
  return out.includes("\0") ? out.replaceAll("\0", NUL_REPLACEMENT) : out;
}

/** RFC 5322 unfolding: CRLF/LF before whitespace removed, ends trimmed. Binary string. */
export function unfoldedValue(raw: Buffer, f: HeaderField): string {
  if (f.valueStart >= f.end) return "";
  const v = raw.toString("latin1", f.valueStart, f.end).replace(/\r?\n(?=[ \t])/g, "");
  // A loop, not /[ \t\r\n]+$/: a long run of blanks before a non-blank makes that quadratic.
  const blank = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
  let start = 0;
  let end = v.length;
  while (start < end && blank(v[start])) start++;
  while (end > start && blank(v[end - 1])) end--;
  return v.slice(start, end);
}
