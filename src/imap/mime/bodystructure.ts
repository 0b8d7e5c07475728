// BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) written the way Dovecot's
// imap-bodystructure.c writes them: type, subtype and parameters as in the
// message, text/plain; charset us-ascii when there is no Content-Type,
// "7bit" when there is no Content-Transfer-Encoding, and for a multipart
// without any body part a single empty text/plain part.

import type { MimeParams } from "./content.ts";
import { envelopeFields } from "./envelope.ts";
import { dcNstring, dcNstringNolf } from "./imapstring.ts";
import { type MimePart, rawOf } from "./parse.ts";

const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const EMPTY_BODYSTRUCTURE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

function params(list: MimeParams | undefined, defaultCharset: boolean): string {
  const n = list?.length ?? 0;
  if (!defaultCharset && n === 0) return "NIL";
  const out: string[] = [];
  let seenCharset = false;
  for (const [name, value] of list ?? []) {
    if (defaultCharset && name.toLowerCase() === "charset") seenCharset = true;
    out.push(`${dcNstring(name)} ${dcNstring(value)}`);
  }
  if (defaultCharset && !seenCharset) out.push('"charset" "us-ascii"');
  return `(${out.join(" ")})`;
}

/** body-fld-dsp body-fld-lang body-fld-loc */
function extension(part: MimePart): string {
  const d = part.disposition;
  const dsp = d === null ? "NIL" : `(${dcNstring(d.type)} ${params(d.params, false)})`;
  const lang = part.language === null ? "NIL" : `(${part.language.map(dcNstring).join(" ")})`;
  return ` ${dsp} ${lang} ${dcNstringNolf(part.location)}`;
}

function writeMultipart(raw: Buffer, part: MimePart, extended: boolean): string {
  let s = "";
  if (part.children.length === 0) s = extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY;
  for (const child of part.children) s += `(${write(raw, child, extended)})`;
  s += ` ${dcNstring(part.contentType?.subtype ?? "x-unknown")}`;
  if (!extended) return s;
  return `${s} ${params(part.contentType?.params, false)}${extension(part)}`;
}

function writeSingle(raw: Buffer, part: MimePart, extended: boolean): string {
  const ct = part.contentType;
  let text = false;
  let s: string;
  if (part.kind === "message") {
    s = part.subtype === "global" ? '"message" "global"' : '"message" "rfc822"';
  } else if (part.kind === "other" && (part.type === "multipart" || part.type === "message")) {
    // too deeply nested to be split: send it as an opaque part
    s = '"application" "octet-stream"';
  } else if (ct === null) {
    text = true;
    s = '"text" "plain"';
  } else {
    text = ct.type.toLowerCase() === "text";
    s = `${dcNstring(ct.type)} ${dcNstring(ct.subtype)}`;
  }
  s += ` ${params(ct?.params, text)}`;
  s += ` ${dcNstringNolf(part.id)} ${dcNstringNolf(part.description)}`;
  s += ` ${part.encoding === null ? '"7bit"' : dcNstring(part.encoding)}`;
  s += ` ${part.bodyEnd - part.bodyStart}`;
  if (text) {
    s += ` ${part.lines}`;
  } else if (part.kind === "message" && part.message !== null) {
    const m = part.message;
    s += ` (${envelopeFields(raw, m)}) (${write(raw, m, extended)}) ${part.lines}`;
  }
  if (!extended) return s;
  return `${s} ${dcNstringNolf(part.md5)}${extension(part)}`;
}

function write(raw: Buffer, part: MimePart, extended: boolean): string {
  return part.kind === "multipart" ? writeMultipart(raw, part, extended) : writeSingle(raw, part, extended);
}

/**
 * The parenthesized BODYSTRUCTURE (extended) or BODY (not extended) of a
 * part, ready to follow "BODYSTRUCTURE " in a FETCH response. Never throws.
 */
export function bodyStructure(part: MimePart, extended: boolean, raw?: Buffer): Buffer {
  try {
    const bytes = raw ?? rawOf(part) ?? Buffer.alloc(0);
    return Buffer.from(`(${write(bytes, part, extended)})`, "latin1");
  } catch {
    return Buffer.from(extended ? EMPTY_BODYSTRUCTURE : EMPTY_BODY, "latin1");
  }
}
