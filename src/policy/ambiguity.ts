// MIME header values whose meaning depends on the parser. The gate must read a
// message the way the recipient's client will; Delta Chat parses with Rust
// mailparse, others with Python's email package or their own code, and they
// disagree on constructs that are legal or half-legal in RFC 822/2045/2047/2231:
//
// - comments "(x)": mailparse and Python keep them in the media type
//   ("multipart/(x)encrypted" is not multipart/encrypted there);
// - encoded words "=?cs?q?..?=": mailparse and Python's default policy decode
//   them inside Content-Type, Python's compat32 policy does not;
// - backslashes: quoted-pairs are undone by some, kept literally by others;
// - quotes that do not enclose a whole value ('"b1"x'), a ";" inside quotes
//   (older mailparse splits there), and unquoted values that are not tokens;
// - RFC 2231 "boundary*" / "protocol*" forms (charset'lang'%XX and continuations);
// - whitespace inside the media type, a boundary outside RFC 2046 §5.1.1's
//   grammar, 8-bit or control characters;
// - WSP between a field name and its colon: mailparse keeps it in the name, so
//   "Content-Type :" is not a Content-Type field there (RFC 5322 §4.5.8 obsolete syntax).
//
// Each function returns why a value is unclear, or null. Values are unfolded
// (RFC 5322 §2.2.3) as headers.ts yields them. Linear time, no backtracking regex.

// RFC 2045 §5.1 token: any CHAR except SPACE, CTLs and tspecials.
const TOKEN_CHAR = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]$/;
// RFC 2046 §5.1.1 bcharsnospace; a space is allowed inside, not at the end.
const BCHAR_NO_SPACE = /^[0-9A-Za-z'()+_,\-./:=?]$/;
/** Parameters that decide the MIME structure or how the gate reads it. */
const DECISIVE = new Set(["boundary", "protocol", "charset"]);

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (const c of s) if (!TOKEN_CHAR.test(c)) return false;
  return true;
}

function isWsp(c: string | undefined): boolean {
  return c === " " || c === "\t";
}

/** RFC 2046 §5.1.1: 1 to 70 bchars, the last one not a space. */
export function validBoundary(b: string): boolean {
  if (b.length < 1 || b.length > 70 || b.endsWith(" ")) return false;
  for (const c of b) if (c !== " " && !BCHAR_NO_SPACE.test(c)) return false;
  return true;
}

/** Why a Content-Type value could be read differently by another MIME parser, or null. */
export function unclearContentType(value: string): string | null {
  if (/[^\t\x20-\x7e]/.test(value)) return "8-bit or control character";
  if (value.includes("=?")) return "encoded word";
  if (value.includes("\\")) return "backslash";
  // Split on ";" outside quoted strings, checking quotes and comments on the way.
  const segments: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === "(" || c === ")")) return "comment";
    else if (quoted && c === ";") return "semicolon in a quoted string";
    else if (!quoted && c === ";") {
      segments.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return "unterminated quoted string";
  segments.push(value.slice(start));
  const media = segments[0]!.trim();
  const slash = media.indexOf("/");
  if (slash < 0 || !isToken(media.slice(0, slash)) || !isToken(media.slice(slash + 1))) {
    return "media type is not token/token";
  }
  for (const segment of segments.slice(1)) {
    const s = segment.trim();
    if (s === "") continue;
    const eq = s.indexOf("=");
    if (eq < 0) return "parameter without a value";
    const name = s.slice(0, eq).trim().toLowerCase();
    const v = s.slice(eq + 1).trim();
    if (!isToken(name)) return "parameter name is not a token";
    const star = name.indexOf("*");
    if (star >= 0 && DECISIVE.has(name.slice(0, star))) return `RFC 2231 form of ${name.slice(0, star)}`;
    if (v.startsWith('"')) {
      // The quoted string must be the whole value: '"b1"x' is read three ways.
      if (v.length < 2 || !v.endsWith('"') || v.slice(1, -1).includes('"')) return "stray quote";
    } else if (!isToken(v)) {
      return "unquoted value is not a token";
    }
    if (name === "boundary") {
      const b = v.startsWith('"') ? v.slice(1, -1) : v;
      if (!validBoundary(b)) return "boundary outside RFC 2046 syntax";
    }
  }
  return null;
}

/** Why a Content-Transfer-Encoding value is unclear (anything but a bare mechanism token), or null. */
export function unclearTransferEncoding(value: string): string | null {
  const v = value.trim();
  if (v.length === 0) return "empty";
  for (const c of v) if (!/^[0-9A-Za-z-]$/.test(c)) return "not a bare mechanism token";
  return null;
}

/**
 * Whether the field starting at `start` has whitespace between its name (`nameLength`
 * bytes) and the colon: "Content-Type :" is obsolete syntax that mailparse does not
 * recognise as Content-Type.
 */
export function spaceBeforeColon(buf: Buffer, start: number, nameLength: number): boolean {
  const c = buf[start + nameLength];
  return isWsp(c === undefined ? undefined : String.fromCharCode(c));
}
