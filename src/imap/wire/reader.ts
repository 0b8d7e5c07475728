/**
 * A cursor over one complete command (its line segments and literals inline, as
 * the framer assembled them). Every primitive of RFC 3501 §9 / RFC 9051 §9 that
 * commands need: atoms, quoted strings with escapes, literals {n} and {n+},
 * astrings, nstrings, numbers, parenthesised lists. A primitive that does not
 * match throws ParseError; the command parser catches it and answers BAD, so no
 * input escapes as an uncaught exception.
 */

export class ParseError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** RFC 3501 §9 atom-specials: ( ) { SP CTL % * " \ ] — plus 0x7f. */
function isAtomChar(c: number): boolean {
  if (c <= 0x1f || c === 0x7f) return false;
  switch (c) {
    case 0x28: // (
    case 0x29: // )
    case 0x7b: // {
    case SP:
    case 0x25: // %
    case 0x2a: // *
    case DQUOTE:
    case BACKSLASH:
    case 0x5d: // ]
      return false;
  }
  // 8-bit bytes are accepted in atoms (UTF-8 mailbox names from lax clients).
  return true;
}

export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos]! : -1;
  }

  fail(message: string): never {
    throw new ParseError(message, this.pos);
  }

  /** Exactly one space. */
  sp(): void {
    if (this.peek() !== SP) this.fail("expected space");
    this.pos++;
  }

  /** Consumes `c` if it is next; returns whether it did. */
  take(c: string): boolean {
    if (this.peek() === c.charCodeAt(0)) {
      this.pos++;
      return true;
    }
    return false;
  }

  expect(c: string): void {
    if (!this.take(c)) this.fail(`expected "${c}"`);
  }

  /** Case-insensitive keyword match without consuming on failure. */
  takeWord(word: string): boolean {
    const end = this.pos + word.length;
    if (end > this.buf.length) return false;
    if (this.buf.toString("latin1", this.pos, end).toUpperCase() !== word) return false;
    this.pos = end;
    return true;
  }

  end(): void {
    if (!this.done) this.fail("unexpected characters at end of command");
  }

  /** 1*ATOM-CHAR, with extra characters allowed (e.g. "]" for astrings, "%*" for list-mailbox). */
  atom(extra = ""): string {
    const start = this.pos;
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (isAtomChar(c) || (extra.length > 0 && extra.includes(String.fromCharCode(c)))) this.pos++;
      else break;
    }
    if (this.pos === start) this.fail("expected atom");
    return this.buf.toString("utf8", start, this.pos);
  }

  /** An atom upper-cased, for keywords and command names. */
  keyword(): string {
    return this.atom().toUpperCase();
  }

  number(): number {
    const start = this.pos;
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (c >= 0x30 && c <= 0x39) this.pos++;
      else break;
    }
    if (this.pos === start) this.fail("expected number");
    if (this.pos - start > 15) this.fail("number too large");
    const n = Number(this.buf.toString("latin1", start, this.pos));
    // RFC 3501 §9 number: unsigned 32-bit; RFC 9051 number64 for sizes.
    if (n > Number.MAX_SAFE_INTEGER) this.fail("number too large");
    return n;
  }

  /** nz-number, at most 2^32-1 (RFC 3501 §9). */
  nzNumber(): number {
    const n = this.number();
    if (n === 0 || n > 0xffffffff) this.fail("expected non-zero 32-bit number");
    return n;
  }

  /** quoted = DQUOTE *QUOTED-CHAR DQUOTE; only \" and \\ escapes (RFC 3501 §9). */
  quotedBytes(): Buffer {
    if (this.peek() !== DQUOTE) this.fail("expected quoted string");
    this.pos++;
    let start = this.pos;
    const chunks: Buffer[] = [];
    for (;;) {
      if (this.pos >= this.buf.length) this.fail("unterminated quoted string");
      const c = this.buf[this.pos]!;
      if (c === DQUOTE) {
        chunks.push(this.buf.subarray(start, this.pos));
        this.pos++;
        break;
      }
      if (c === CR || c === LF || c === 0) this.fail("CR, LF or NUL in quoted string");
      if (c === BACKSLASH) {
        const n = this.buf[this.pos + 1];
        if (n !== DQUOTE && n !== BACKSLASH) this.fail("bad escape in quoted string");
        chunks.push(this.buf.subarray(start, this.pos));
        chunks.push(Buffer.of(n));
        this.pos += 2;
        start = this.pos;
        continue;
      }
      this.pos++;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  /** literal = "{" number ["+"] "}" CRLF *CHAR8; the framer already placed the data inline. */
  literalBytes(): Buffer {
    if (this.peek() !== 0x7b) this.fail("expected literal");
    this.pos++;
    const n = this.number();
    this.take("+");
    this.expect("}");
    if (this.peek() !== CR || this.buf[this.pos + 1] !== LF) this.fail("expected CRLF after literal size");
    this.pos += 2;
    if (this.pos + n > this.buf.length) this.fail("literal shorter than announced");
    const data = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return data;
  }

  /** string = quoted / literal, as bytes. */
  stringBytes(): Buffer {
    const c = this.peek();
    if (c === DQUOTE) return this.quotedBytes();
    if (c === 0x7b) return this.literalBytes();
    return this.fail("expected string");
  }

  string(): string {
    return this.stringBytes().toString("utf8");
  }

  /** astring = 1*ASTRING-CHAR / string (ASTRING-CHAR = ATOM-CHAR / "]"). */
  astringBytes(): Buffer {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.stringBytes();
    const start = this.pos;
    this.atom("]");
    return this.buf.subarray(start, this.pos);
  }

  astring(): string {
    return this.astringBytes().toString("utf8");
  }

  /** nstring = string / NIL; returns null for NIL. */
  nstringBytes(): Buffer | null {
    if (this.peek() !== DQUOTE && this.peek() !== 0x7b) {
      const save = this.pos;
      if (this.takeWord("NIL")) {
        const c = this.peek();
        if (c === -1 || c === SP || c === 0x29) return null;
      }
      this.pos = save;
      this.fail("expected string or NIL");
    }
    return this.stringBytes();
  }

  /** list-mailbox = 1*list-char / string (list-char adds % * ] to ATOM-CHAR). */
  listMailbox(): string {
    const c = this.peek();
    if (c === DQUOTE || c === 0x7b) return this.string();
    return this.atom("%*]");
  }

  /**
   * "(" elem *(SP elem) ")" — or, when `allowEmpty`, "()" too. `elem` reads one
   * element at the current position.
   */
  list<T>(elem: () => T, allowEmpty = true): T[] {
    this.expect("(");
    const out: T[] = [];
    if (this.take(")")) {
      if (!allowEmpty) this.fail("empty list");
      return out;
    }
    for (;;) {
      out.push(elem());
      if (this.take(")")) return out;
      this.sp();
    }
  }

  /** flag = "\" atom / keyword (RFC 3501 §9 flag, flag-keyword, flag-extension). */
  flag(): string {
    const system = this.take("\\");
    const name = this.atom();
    // flag-keyword = atom (RFC 3501 §9): 7-bit, as it is stored and echoed to every session.
    if (/[^\x21-\x7e]/.test(name)) this.fail("bad flag");
    return system ? `\\${canonicalSystemFlag(name)}` : name;
  }
}

const SYSTEM_FLAGS = ["Answered", "Flagged", "Deleted", "Seen", "Draft", "Recent"];

/** "\seen" → "Seen": system flags are case-insensitive (RFC 3501 §2.3.2). */
export function canonicalSystemFlag(name: string): string {
  const lower = name.toLowerCase();
  for (const f of SYSTEM_FLAGS) if (f.toLowerCase() === lower) return f;
  return name;
}
