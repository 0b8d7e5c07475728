// RFC 5322 / RFC 2045 lexical tokenizer for header values, with the same
// leniency as Dovecot's rfc822-parser (so BODYSTRUCTURE and ENVELOPE come out
// the way Dovecot renders them). Works on "binary" strings: one char per byte.

// atext chars are 1, ALPHA/DIGIT/8-bit are 2, atext that is a MIME tspecial is 4.
const ATEXT = new Uint8Array(256);
for (let c = 0x80; c < 0x100; c++) ATEXT[c] = 2;
for (let c = 0x30; c <= 0x39; c++) ATEXT[c] = 2;
for (let c = 0x41; c <= 0x5a; c++) ATEXT[c] = 2;
for (let c = 0x61; c <= 0x7a; c++) ATEXT[c] = 2;
for (const ch of "!#$%&'*+-^_`{|}~") ATEXT[ch.charCodeAt(0)] = 1;
for (const ch of "/=?") ATEXT[ch.charCodeAt(0)] = 4;

export function isAtext(c: number): boolean {
  return c >= 0 && ATEXT[c] !== 0;
}

function isTokenChar(c: number): boolean {
  // RFC 2045 token: atext minus tspecials, plus "."
  return c === 0x2e || (c >= 0 && (ATEXT[c] & 3) !== 0);
}

/** A growable string; functions append to `v`. */
export class Str {
  v = "";
}

/**
 * Cursor over a header value. Methods return like Dovecot's: -1 broken,
 * 0 at end of input, 1 more input follows.
 */
export class Rfc822Parser {
  pos = 0;
  readonly end: number;
  /** Text of the last comment seen, when tracking is on. */
  lastComment: string | null;

  constructor(
    readonly s: string,
    trackComments = false,
  ) {
    this.end = s.length;
    this.lastComment = trackComments ? "" : null;
  }

  /** Current char code, or -1 at the end. */
  c(): number {
    return this.pos < this.end ? this.s.charCodeAt(this.pos) : -1;
  }

  skipComment(): number {
    if (this.lastComment !== null) this.lastComment = "";
    let level = 1;
    let start = ++this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x28) level++;
      else if (c === 0x29) {
        if (--level === 0) {
          if (this.lastComment !== null) this.lastComment += this.s.slice(start, this.pos);
          this.pos++;
          return this.pos < this.end ? 1 : 0;
        }
      } else if (c === 0x5c) {
        if (this.lastComment !== null) this.lastComment += this.s.slice(start, this.pos);
        start = this.pos + 1;
        this.pos++;
        if (this.pos >= this.end) return -1;
      }
    }
    return -1; // missing ')'
  }

  /** Skips CFWS. */
  skipLwsp(): number {
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
        this.pos++;
        continue;
      }
      if (c !== 0x28) break;
      if (this.skipComment() < 0) return -1;
    }
    return this.pos < this.end ? 1 : 0;
  }

  atom(out: Str): number {
    if (!isAtext(this.c())) return -1;
    const start = this.pos++;
    for (; this.pos < this.end; this.pos++) {
      if (isAtext(this.s.charCodeAt(this.pos))) continue;
      out.v += this.s.slice(start, this.pos);
      return this.skipLwsp();
    }
    out.v += this.s.slice(start, this.pos);
    return 0;
  }

  /** dot-atom, allowing CFWS around the dots (RFC 822 compatibility). */
  dotAtom(out: Str): number {
    if (!isAtext(this.c())) return -1;
    let start = this.pos++;
    while (this.pos < this.end) {
      if (isAtext(this.s.charCodeAt(this.pos))) {
        this.pos++;
        continue;
      }
      out.v += this.s.slice(start, this.pos);
      let ret = this.skipLwsp();
      if (ret <= 0) return ret;
      if (this.c() !== 0x2e) return 1;
      this.pos++;
      out.v += ".";
      ret = this.skipLwsp();
      if (ret <= 0) return ret;
      start = this.pos;
    }
    out.v += this.s.slice(start, this.pos);
    return 0;
  }

  mimeToken(out: Str): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      if (isTokenChar(this.s.charCodeAt(this.pos))) continue;
      out.v += this.s.slice(start, this.pos);
      return this.skipLwsp();
    }
    out.v += this.s.slice(start, this.pos);
    return 0;
  }

  /** Expects the cursor on '"'. Unescapes quoted-pairs, drops folding (CR)LF. */
  quotedString(out: Str): number {
    this.pos++;
    let start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x22) {
        out.v += this.s.slice(start, this.pos);
        this.pos++;
        return this.skipLwsp();
      }
      if (c === 0x0a) {
        let len = this.pos - start;
        if (len > 0 && this.s.charCodeAt(this.pos - 1) === 0x0d) len--;
        out.v += this.s.slice(start, start + len);
        start = this.pos + 1;
      } else if (c === 0x5c) {
        this.pos++;
        if (this.pos >= this.end) return -1;
        out.v += this.s.slice(start, this.pos - 1);
        start = this.pos;
      }
    }
    return -1; // missing '"'
  }

  private atomOrDot(out: Str): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (isAtext(c) || c === 0x2e) continue;
      out.v += this.s.slice(start, this.pos);
      return this.skipLwsp();
    }
    out.v += this.s.slice(start, this.pos);
    return 0;
  }

  /** phrase = 1*word / obs-phrase; words are joined by one space. */
  phrase(out: Str): number {
    if (this.pos >= this.end) return 0;
    if (this.c() === 0x2e) return -1;
    for (;;) {
      const ret = this.c() === 0x22 ? this.quotedString(out) : this.atomOrDot(out);
      if (ret <= 0) return ret;
      const c = this.c();
      if (!isAtext(c) && c !== 0x22 && c !== 0x2e) break;
      out.v += " ";
    }
    return this.skipLwsp();
  }

  private domainLiteral(out: Str): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x5c) {
        this.pos++;
        if (this.pos >= this.end) break;
      } else if (c === 0x5d) {
        this.pos++;
        out.v += this.s.slice(start, this.pos);
        return this.skipLwsp();
      }
    }
    return -1; // missing ']'
  }

  /** Expects the cursor on '@'. */
  domain(out: Str): number {
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    return this.c() === 0x5b ? this.domainLiteral(out) : this.dotAtom(out);
  }

  /** type "/" subtype, as written. */
  contentType(out: Str): number {
    if (this.skipLwsp() <= 0) return -1;
    if (this.mimeToken(out) <= 0) return -1;
    if (this.c() !== 0x2f) return -1;
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    out.v += "/";
    return this.mimeToken(out);
  }

  /** One `; attribute=value` (RFC 2045 §5.1). */
  contentParam(): { ret: number; key: string; value: string } {
    const value = new Str();
    if (this.pos >= this.end) return { ret: 0, key: "", value: "" };
    if (this.c() !== 0x3b) return { ret: -1, key: "", value: "" };
    this.pos++;
    if (this.skipLwsp() <= 0) return { ret: -1, key: "", value: "" };
    const key = new Str();
    if (this.mimeToken(key) <= 0) return { ret: -1, key: "", value: "" };
    if (this.c() !== 0x3d) return { ret: -1, key: "", value: "" };
    this.pos++;
    let ret = this.skipLwsp();
    if (ret <= 0) {
      // broken or no value
    } else if (this.c() === 0x22) {
      ret = this.quotedString(value);
    } else if (this.c() === 0x3d) {
      // workaround for broken input: name==?utf-8?b?...?=
      const start = this.pos;
      for (; this.pos < this.end; this.pos++) {
        const c = this.s.charCodeAt(this.pos);
        if (c === 0x3b || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
      }
      value.v += this.s.slice(start, this.pos);
    } else {
      ret = this.mimeToken(value);
    }
    return { ret: ret < 0 ? -1 : 1, key: key.v, value: value.v };
  }
}

interface Rfc2231Piece {
  key: string;
  value: string;
  idx: number;
  extended: boolean;
}

/**
 * Reads the parameter list after a MIME value. RFC 2231 continuations
 * (`name*0`, `name*1*` ...) are merged into one `name` or `name*` parameter;
 * the charset'language'%XX encoding is kept as is (that is what Dovecot shows
 * in BODYSTRUCTURE). Names keep their case.
 */
export function parseParams(p: Rfc822Parser): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  const pieces: Rfc2231Piece[] = [];
  for (;;) {
    const { ret, key, value } = p.contentParam();
    if (ret === 0) break;
    if (ret < 0) {
      // try to continue anyway
      if (p.pos >= p.end) break;
      p.pos++;
      continue;
    }
    const star = key.indexOf("*");
    if (star < 0) {
      result.push([key, value]);
      continue;
    }
    // name* | name*<n> | name*<n>*  (RFC 2231 §3, §4)
    let i = star + 1;
    let idx = 0;
    let extended = i === key.length;
    while (i < key.length && key.charCodeAt(i) >= 0x30 && key.charCodeAt(i) <= 0x39) {
      idx = idx * 10 + key.charCodeAt(i) - 0x30;
      i++;
    }
    if (i < key.length && key.charCodeAt(i) === 0x2a) {
      extended = true;
      i++;
    }
    if (i !== key.length) {
      result.push([key, value]);
      continue;
    }
    pieces.push({ key: key.slice(0, star), value, idx: Math.min(idx, 0x7fffffff), extended });
  }
  if (pieces.length === 0) return result;
  pieces.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.idx - b.idx));
  for (let i = 0; i < pieces.length; ) {
    let j = i;
    let ok = true;
    let haveExtended = false;
    const lower = pieces[i].key.toLowerCase();
    for (let next = 0; j < pieces.length && pieces[j].key.toLowerCase() === lower; j++, next++) {
      if (pieces[j].idx !== next) ok = false;
      if (pieces[j].extended) haveExtended = true;
    }
    if (!ok) {
      for (let k = i; k < j; k++) {
        const pc = pieces[k];
        result.push([`${pc.key}*${pc.idx}${pc.extended ? "*" : ""}`, pc.value]);
      }
    } else {
      let value = !pieces[i].extended && haveExtended ? "''" : "";
      for (let k = i; k < j; k++) {
        const pc = pieces[k];
        value += !pc.extended && haveExtended ? pc.value.replaceAll("%", "%25") : pc.value;
      }
      result.push([haveExtended ? `${pieces[i].key}*` : pieces[i].key, value]);
    }
    i = j;
  }
  return result;
}
