/**
 * IMAP argument lists as imaptest sees them (Dovecot's imap-parser with
 * ATOM_ALLCHARS | LITERAL8 | LITERAL_TYPE): atoms end only at SP, CR, LF or a
 * ")" that closes an open list, so `body[header.fields (from)]` is the atom
 * `body[header.fields`, the list `(from)` and the atom `]`. The same tokenizer
 * reads the expected lines of a script and the server's responses, so both
 * sides are split the same way.
 *
 * Strings are "binary strings": one JS char per octet (latin1), so literals
 * with 8-bit data compare byte for byte.
 */

export type ImapArg =
  | { type: "atom"; value: string }
  | { type: "nil" }
  | { type: "string"; value: string }
  | { type: "literal"; value: string; binary: boolean }
  | { type: "list"; items: ImapArg[] };

export type ParseResult = { ok: true; args: ImapArg[] } | { ok: false; error: string };

export interface ParseOptions {
  /** Allow CR/LF inside quoted strings (scripts: IMAP_PARSE_FLAG_MULTILINE_STR). */
  multilineString?: boolean;
}

/** Parses one logical line; literals are embedded as `{n}\r\n<n octets>` (RFC 3501 §4.3, RFC 3516 `~{n}`). */
export function parseImapArgs(text: string, opts: ParseOptions = {}): ParseResult {
  const root: ImapArg[] = [];
  const stack: ImapArg[][] = [root];
  let pos = 0;
  const len = text.length;
  while (pos < len) {
    const c = text[pos]!;
    if (c === " " || c === "\r" || c === "\n") {
      pos++;
      continue;
    }
    const cur = stack[stack.length - 1]!;
    if (c === "(") {
      const items: ImapArg[] = [];
      cur.push({ type: "list", items });
      stack.push(items);
      pos++;
      continue;
    }
    if (c === ")" && stack.length > 1) {
      stack.pop();
      pos++;
      continue;
    }
    if (c === '"') {
      let value = "";
      pos++;
      for (;;) {
        if (pos >= len) return { ok: false, error: "Missing '\"'" };
        const d = text[pos]!;
        if (d === '"') {
          pos++;
          break;
        }
        if (d === "\\" && pos + 1 < len) {
          value += text[pos + 1];
          pos += 2;
          continue;
        }
        if ((d === "\r" || d === "\n") && !opts.multilineString) {
          return { ok: false, error: "Linebreak in quoted string" };
        }
        value += d;
        pos++;
      }
      cur.push({ type: "string", value });
      continue;
    }
    if (c === "{" || (c === "~" && text[pos + 1] === "{")) {
      const binary = c === "~";
      const m = /^~?\{(\d+)\+?\}(\r?\n)/.exec(text.slice(pos, pos + 32));
      if (m === null) return { ok: false, error: "Broken literal size" };
      const size = Number(m[1]);
      const start = pos + m[0].length;
      if (start + size > len) return { ok: false, error: "Literal data missing" };
      cur.push({ type: "literal", value: text.slice(start, start + size), binary });
      pos = start + size;
      continue;
    }
    let end = pos;
    while (end < len) {
      const d = text[end]!;
      if (d === " " || d === "\r" || d === "\n") break;
      if (d === ")" && stack.length > 1) break;
      end++;
    }
    const value = text.slice(pos, end);
    cur.push(value.toUpperCase() === "NIL" ? { type: "nil" } : { type: "atom", value });
    pos = end;
  }
  if (stack.length > 1) return { ok: false, error: "Missing ')'" };
  return { ok: true, args: root };
}

/** imap_arg_get_astring(): atom, quoted string or literal (not NIL, not list). */
export function astringOf(arg: ImapArg | undefined): string | null {
  if (arg === undefined) return null;
  if (arg.type === "atom" || arg.type === "string" || arg.type === "literal") return arg.value;
  return null;
}

/** imap_arg_get_atom(): atoms and NIL. */
export function atomOf(arg: ImapArg | undefined): string | null {
  if (arg === undefined) return null;
  if (arg.type === "atom") return arg.value;
  if (arg.type === "nil") return "NIL";
  return null;
}

/** ASCII-only case folding, as Dovecot's i_toupper(). */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (x) => x.toUpperCase());
}

export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (x) => x.toLowerCase());
}

export function equalsIgnoreCase(a: string, b: string): boolean {
  return a.length === b.length && asciiUpper(a) === asciiUpper(b);
}

function quote(s: string): string {
  const max = 300;
  const body = s.length > max ? `${s.slice(0, max)}...` : s;
  return `"${body
    .replace(/[\\"]/g, (x) => `\\${x}`)
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n")}"`;
}

/** imap_args_to_str() for messages: lists in parentheses, strings quoted. */
export function argsToString(args: readonly ImapArg[]): string {
  return args
    .map((a) => {
      switch (a.type) {
        case "atom":
          return a.value;
        case "nil":
          return "NIL";
        case "string":
          return quote(a.value);
        case "literal":
          return `${a.binary ? "~" : ""}{${a.value.length}}${quote(a.value)}`;
        case "list":
          return `(${argsToString(a.items)})`;
      }
      return "";
    })
    .join(" ");
}

/** Quotes a mailbox name for a command (imap_append_string): quoted, or a literal for 8-bit/CR/LF. */
export function imapQuote(s: string): string {
  if (/[\r\n\x80-\xff]/.test(s)) return `{${s.length}}\r\n${s}`;
  return `"${s.replace(/[\\"]/g, (x) => `\\${x}`)}"`;
}
