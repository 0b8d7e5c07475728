// The two other plaintext exceptions of chatmail's filtermail.

import libmime from "libmime";
import { firstHeader } from "./headers.ts";
import type { MimeShape } from "./mime-shape.ts";

/**
 * Incoming only: a delivery report from a mailer daemon (RFC 3464 bounce):
 * `Auto-Submitted` present and non-empty (RFC 3834 §5), the From address
 * starts with "mailer-daemon@", and the top-level type is multipart/report
 * (RFC 6522). Bounces must reach the sender even though they are plaintext.
 */
export function isMailerDaemonReport(shape: MimeShape, fromAddress: string): boolean {
  const autoSubmitted = firstHeader(shape.headers, "auto-submitted");
  if (autoSubmitted === undefined || autoSubmitted.trim() === "") return false;
  if (!fromAddress.toLowerCase().startsWith("mailer-daemon@")) return false;
  return !shape.ambiguous && shape.contentType.mime === "multipart/report";
}

function decodedSubject(shape: MimeShape): string | undefined {
  const raw = firstHeader(shape.headers, "subject");
  if (raw === undefined) return undefined;
  try {
    return libmime.decodeWords(raw).trim();
  } catch {
    return raw;
  }
}

/**
 * Outgoing only: a self-sent Autocrypt Setup Message (Autocrypt Level 1
 * §4.4): exactly one recipient equal to From, Subject exactly "Autocrypt
 * Setup Message", multipart/mixed. Delta Chat no longer sends these; kept
 * while older clients may.
 */
export function isSelfSentSetupMessage(
  shape: MimeShape,
  fromAddress: string,
  recipients: readonly string[],
): boolean {
  if (recipients.length !== 1) return false;
  if ((recipients[0] as string).toLowerCase() !== fromAddress.toLowerCase()) return false;
  if (decodedSubject(shape) !== "Autocrypt Setup Message") return false;
  return !shape.ambiguous && shape.contentType.mime === "multipart/mixed";
}
