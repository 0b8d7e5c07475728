/**
 * Response encoding that is always valid IMAP (RFC 3501 §4, §9): strings are
 * quoted when they are 7-bit text without CR/LF/NUL, otherwise sent as literals;
 * atoms only where every byte is an ATOM-CHAR. Responses that may carry
 * literals are built as Buffers with `Response`.
 */

function isAtomSafe(s: string, allowBracket: boolean): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
    switch (c) {
      case 0x28:
      case 0x29:
      case 0x7b:
      case 0x25:
      case 0x2a:
      case 0x22:
      case 0x5c:
        return false;
      case 0x5d:
        if (!allowBracket) return false;
    }
  }
  return true;
}

/** Whether `s` can go into a quoted string (7-bit, no CR, LF or NUL). */
function isQuotable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c >= 0x80) return false;
  }
  return true;
}

/** `"..."` with \ and " escaped. The caller makes sure the text is quotable. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/** A literal's header and data. */
export function literal(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`, "latin1"), bytes]);
}

/** Builds one response that may contain literals. */
export class Response {
  private chunks: Array<Buffer | string> = [];

  text(s: string): this {
    this.chunks.push(s);
    return this;
  }

  /** A string: quoted if possible, else a literal. */
  string(v: string | Buffer): this {
    if (typeof v === "string") {
      if (isQuotable(v)) this.chunks.push(quote(v));
      else this.chunks.push(literal(v));
      return this;
    }
    let quotable = v.length < 4096;
    if (quotable) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i]!;
        if (c === 0 || c === 0x0a || c === 0x0d || c >= 0x80) {
          quotable = false;
          break;
        }
      }
    }
    if (quotable) this.chunks.push(quote(v.toString("latin1")));
    else this.chunks.push(literal(v));
    return this;
  }

  /** nstring: NIL for null. */
  nstring(v: string | Buffer | null | undefined): this {
    if (v === null || v === undefined) return this.text("NIL");
    return this.string(v);
  }

  /** astring: bare atom when safe, else a string. */
  astring(s: string): this {
    if (isAtomSafe(s, true)) return this.text(s);
    return this.string(s);
  }

  /** Always a literal (message bodies). */
  literal(data: Buffer): this {
    this.chunks.push(`{${data.length}}\r\n`);
    this.chunks.push(data);
    return this;
  }

  /** The response with CRLF appended. */
  build(): Buffer {
    const bufs = this.chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c));
    bufs.push(CRLF);
    return Buffer.concat(bufs);
  }
}

const CRLF = Buffer.from("\r\n");

/** INTERNALDATE as date-time: "17-Jul-1996 02:44:25 +0000" (RFC 3501 §9), in UTC. */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  const day = String(d.getUTCDate()).padStart(2, "0");
  const mon = MONTHS[d.getUTCMonth()];
  const time = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  return `"${day}-${mon}-${d.getUTCFullYear()} ${time} +0000"`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A flag list "(\Seen $Label)". */
export function flagList(flags: readonly string[]): string {
  return `(${flags.join(" ")})`;
}
