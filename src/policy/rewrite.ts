// Header rewrites on the way through the relay. Only top-level header fields
// are touched; every other byte, including the whole body and the header
// fields kept, is copied unchanged. Works for CRLF and bare-LF messages and
// for folded fields (a field is removed or replaced with its continuations).

import { type HeaderField, scanHeaders } from "./headers.ts";

function rewriteHeaders(message: Buffer, edit: (field: HeaderField) => Buffer | null | undefined): Buffer {
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
