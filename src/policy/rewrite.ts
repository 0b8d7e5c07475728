// Header rewrites on the way through the relay. Only top-level header fields
// are touched; every other byte, including the whole body and the header
// fields kept, is copied unchanged. Works for CRLF and bare-LF messages and
// for folded fields (a field is removed or replaced with its continuations).

import { type HeaderField, scanHeaders } from "./headers.ts";

const CR = 0x0d;
const LF = 0x0a;

/**
 * A bare CR in the header section ends a line for some readers (Python's email
 * package) but not for our scanner, so "X-A: a<CR>Received: b" would hide a field
 * from the rewrite that those readers then see. RFC 5322 §2.2 allows CR only in
 * CRLF: each bare CR up to the end of the header section is written as CRLF.
 */
function splitBareCr(message: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let copied = 0;
  let lineStart = true;
  for (let i = 0; i < message.length; i++) {
    const c = message[i];
    const bare = c === CR && message[i + 1] !== LF;
    if (bare) {
      chunks.push(message.subarray(copied, i + 1), Buffer.from([LF]));
      copied = i + 1;
    }
    if (lineStart && (c === LF || c === CR)) break; // the empty line ends the header section
    lineStart = bare || c === LF;
  }
  if (copied === 0) return message;
  chunks.push(message.subarray(copied));
  return Buffer.concat(chunks);
}

function rewriteHeaders(input: Buffer, edit: (field: HeaderField) => Buffer | null | undefined): Buffer {
  const message = splitBareCr(input);
  const section = scanHeaders(message);
  const chunks: Buffer[] = [];
  let copied = 0; // everything before `copied` is already in `chunks`
  for (const field of section.fields) {
    if (field.malformed) continue;
    const replacement = edit(field);
    if (replacement === undefined) continue; // keep as is
    if (field.start > copied) chunks.push(message.subarray(copied, field.start));
    if (replacement !== null) chunks.push(replacement);
    copied = field.end;
  }
  if (copied === 0) return message;
  chunks.push(message.subarray(copied));
  return Buffer.concat(chunks);
}

const SUBMISSION_STRIP = new Set(["received", "x-originating-ip", "x-mailer", "user-agent"]);
const LOCAL_STRIP = new Set(["dkim-signature", "authentication-results", "received"]);

/**
 * Submitted mail, before DKIM signing (what chatmail's Postfix `authclean`
 * cleanup does): remove Received, X-Originating-IP, X-Mailer and User-Agent,
 * which would reveal the sender's IP address and software, and replace every
 * Subject with "Subject: [...]" (the real subject travels encrypted).
 */
export function rewriteSubmitted(message: Buffer): Buffer {
  return rewriteHeaders(message, (f) => {
    if (SUBMISSION_STRIP.has(f.lname)) return null;
    if (f.lname === "subject") return Buffer.from(`Subject: [...]${f.eol}`, "latin1");
    return undefined;
  });
}

/**
 * Local delivery (chatmail's `lmtp_header_checks`): remove DKIM-Signature,
 * Authentication-Results and Received.
 */
export function stripForLocalDelivery(message: Buffer): Buffer {
  return rewriteHeaders(message, (f) => (LOCAL_STRIP.has(f.lname) ? null : undefined));
}
