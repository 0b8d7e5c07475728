/**
 * Splitting a message into header fields and body (RFC 5322 §2.1, §2.2), as DKIM sees it.
 * The parser is total: malformed input gives `{ ok: false }`, never an exception.
 */

export interface HeaderField {
  /** Field name as written. */
  name: string;
  /** Field name in lower case. */
  key: string;
  /** The whole field as latin1 text (one char per byte): name, colon, value, folds kept, no final CRLF. */
  raw: string;
}

export type HeaderParseResult =
  | { ok: true; fields: HeaderField[]; bodyOffset: number }
  | { ok: false; reason: string };

const CR = 0x0d;
const LF = 0x0a;
const CRLF_CRLF = Buffer.from("\r\n\r\n");

/**
 * SMTP carries lines ending in CRLF (RFC 5321 §2.3.8), and signers and verifiers canonicalize
 * as if they did; a bare LF is turned into CRLF. Returns the input itself when nothing changes.
 */
export function toCrlf(message: Buffer): Buffer {
  let bare = 0;
  for (let i = message.indexOf(LF); i !== -1; i = message.indexOf(LF, i + 1)) {
    if (i === 0 || message[i - 1] !== CR) bare++;
  }
  if (bare === 0) return message;
  const out = Buffer.allocUnsafe(message.length + bare);
  let from = 0;
  let to = 0;
  for (let i = message.indexOf(LF); i !== -1; i = message.indexOf(LF, i + 1)) {
    if (i > 0 && message[i - 1] === CR) continue;
    to += message.copy(out, to, from, i);
    out[to++] = CR;
    from = i;
  }
  to += message.copy(out, to, from);
  return out.subarray(0, to);
}

/** Field name: printable US-ASCII except ":" (RFC 5322 §3.6.8 ftext); WSP before the colon is obsolete syntax (§4.5.8). */
const FIELD_START = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * Parses the header section of a message whose lines end in CRLF (see toCrlf). A message
 * without an empty line is all header. At least one header field is required.
 */
export function parseHeaderBlock(message: Buffer): HeaderParseResult {
  let headerEnd: number;
  let bodyOffset: number;
  if (message.length >= 2 && message[0] === CR && message[1] === LF) {
    headerEnd = 0;
    bodyOffset = 2;
  } else {
    const blank = message.indexOf(CRLF_CRLF);
    headerEnd = blank === -1 ? message.length : blank;
    bodyOffset = blank === -1 ? message.length : blank + 4;
  }
  const block = message.toString("latin1", 0, headerEnd);
  if (block.length === 0) return { ok: false, reason: "no header fields" };
  const fields: HeaderField[] = [];
  for (const line of block.replace(/\r\n$/, "").split("\r\n")) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      const last = fields.at(-1);
      if (!last) return { ok: false, reason: "continuation line before the first header field" };
      last.raw += `\r\n${line}`;
      continue;
    }
    const match = FIELD_START.exec(line);
    if (!match) return { ok: false, reason: "header line without a field name" };
    const name = match[1] as string;
    fields.push({ name, key: name.toLowerCase(), raw: line });
  }
  return { ok: true, fields, bodyOffset };
}
