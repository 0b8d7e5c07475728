// IMAP string encoding (RFC 3501 §4.3 string, §4.5 NIL).
//
// `nstring` is the general encoder. The `dc*` helpers reproduce Dovecot's
// imap-quote.c choices for BODYSTRUCTURE and ENVELOPE; they take and return
// binary strings (one char per byte) so 8-bit header bytes pass unchanged.

const NIL = Buffer.from("NIL", "latin1");

/**
 * NIL for null; a quoted string when the value has no CR, LF, NUL or 8-bit
 * byte (with \ and " escaped); otherwise a literal `{n}\r\n<bytes>`.
 * Strings are encoded as UTF-8.
 */
export function nstring(value: string | Buffer | null): Buffer {
  if (value === null) return NIL;
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  let escapes = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x00 || c === 0x0a || c === 0x0d || c >= 0x80) {
      return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`, "latin1"), bytes]);
    }
    if (c === 0x22 || c === 0x5c) escapes++;
  }
  if (escapes === 0) return Buffer.concat([Buffer.from('"'), bytes, Buffer.from('"')]);
  const out = Buffer.allocUnsafe(bytes.length + escapes + 2);
  let o = 0;
  out[o++] = 0x22;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x22 || c === 0x5c) out[o++] = 0x5c;
    out[o++] = c;
  }
  out[o++] = 0x22;
  return out;
}

// Dovecot switches to a literal after 4 quoted-specials (imap-quote.c).
const QUOTED_MAX_ESCAPE_CHARS = 4;

/** imap_append_nstring: NIL, "quoted" or literal (binary string in and out). */
export function dcNstring(s: string | null): string {
  if (s === null) return "NIL";
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      if (escapes++ < QUOTED_MAX_ESCAPE_CHARS) continue;
      return `{${s.length}}\r\n${s}`;
    }
    if (c === 0x0d || c === 0x0a || c >= 0x80 || c === 0x00) return `{${s.length}}\r\n${s}`;
  }
  return escapes === 0 ? `"${s}"` : `"${s.replace(/["\\]/g, "\\$&")}"`;
}

/** imap_append_nstring_nolf: line breaks removed, a space kept between lines. */
export function dcNstringNolf(s: string | null): string {
  if (s === null || !/[\r\n]/.test(s)) return dcNstring(s);
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\r" && c !== "\n") out += c;
    else if (i + 1 < s.length && !" \t\r\n".includes(s[i + 1])) out += " ";
  }
  return dcNstring(out);
}

/**
 * imap_append_string_for_humans (used for the ENVELOPE subject): runs of
 * whitespace and line breaks become one space, leading and trailing
 * whitespace go; anything changed is sent as a literal.
 */
export function dcStringForHumans(s: string): string {
  let modify = false;
  let lastLwsp = true;
  let prefix = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      if (c !== 0x20 || lastLwsp) modify = true;
      lastLwsp = true;
    } else {
      if (c === 0x00 || c === 0x22 || c === 0x5c || c >= 0x80) modify = true;
      lastLwsp = false;
      prefix = false;
    }
  }
  if (lastLwsp && s.length > 0 && !prefix) modify = true;
  if (!modify) return `"${s}"`;
  let out = "";
  lastLwsp = true;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") {
      if (!lastLwsp) out += " ";
      lastLwsp = true;
    } else {
      out += ch === "\0" ? "\x80" : ch;
      lastLwsp = false;
    }
  }
  if (lastLwsp && out.length > 0) out = out.slice(0, -1);
  if (out.length === 0) return '""';
  return `{${out.length}}\r\n${out}`;
}
