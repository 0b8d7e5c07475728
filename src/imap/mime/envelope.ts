// ENVELOPE (RFC 3501 §7.4.2) of a message, as Dovecot writes it: the raw
// header values (encoded-words are not decoded), the subject cleaned up for
// humans, sender and reply-to falling back to from, and when a field occurs
// more than once the last one counts.

import { type EnvelopeAddress, parseAddressList } from "./address.ts";
import { fullValue } from "./fields.ts";
import { dcNstringNolf, dcStringForHumans } from "./imapstring.ts";
import type { MimePart } from "./parse.ts";

type Field =
  | "date"
  | "subject"
  | "from"
  | "sender"
  | "reply-to"
  | "to"
  | "cc"
  | "bcc"
  | "in-reply-to"
  | "message-id";

const FIELDS = new Set<string>([
  "date",
  "subject",
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
  "in-reply-to",
  "message-id",
]);

function addresses(list: EnvelopeAddress[] | null): string {
  if (list === null || list.length === 0) return "NIL";
  let s = "(";
  for (const a of list) {
    s += `(${dcNstringNolf(a.name)} ${dcNstringNolf(a.route)} ${dcNstringNolf(a.mailbox)} ${dcNstringNolf(a.domain)})`;
  }
  return `${s})`;
}

/** The envelope fields of a message's header, without the outer parentheses (binary string). */
export function envelopeFields(raw: Buffer, part: MimePart): string {
  const v = new Map<Field, string>();
  for (const f of part.fields) {
    const name = f.name.toLowerCase();
    if (FIELDS.has(name)) v.set(name as Field, fullValue(raw, f));
  }
  const addr = (k: Field): EnvelopeAddress[] | null => {
    const value = v.get(k);
    if (value === undefined) return null;
    const list = parseAddressList(value);
    return list.length === 0 ? null : list;
  };
  const from = addr("from");
  const subject = v.get("subject");
  return [
    dcNstringNolf(v.get("date") ?? null),
    subject === undefined ? "NIL" : dcStringForHumans(subject),
    addresses(from),
    addresses(addr("sender") ?? from),
    addresses(addr("reply-to") ?? from),
    addresses(addr("to")),
    addresses(addr("cc")),
    addresses(addr("bcc")),
    dcNstringNolf(v.get("in-reply-to") ?? null),
    dcNstringNolf(v.get("message-id") ?? null),
  ].join(" ");
}

/**
 * The parenthesized ENVELOPE of the message whose header is `part`'s header
 * (the root part, or `part.message` of a message/rfc822 part). Never throws.
 */
export function envelope(part: MimePart, raw: Buffer): Buffer {
  try {
    return Buffer.from(`(${envelopeFields(raw, part)})`, "latin1");
  } catch {
    return Buffer.from("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", "latin1");
  }
}
