/**
 * Delivery status notifications (RFC 3464) from MAILER-DAEMON@<domain>.
 * Delta Chat parses multipart/report bounces and marks the original message
 * failed; it needs the From and the original Message-ID (chatmail/core src/mimeparser.rs).
 */
import { randomBytes } from "node:crypto";
import { headerBlock, headerValue } from "./headers.ts";

export interface FailedRecipient {
  recipient: string;
  /** e.g. "5.1.1" */
  status: string;
  /** The reply text, ours or the remote server's. */
  diagnostic: string;
}

export interface BounceInput {
  /** Our domain as used in addresses ("example.org" or "[1.2.3.4]"). */
  domain: string;
  /** Host name for Reporting-MTA. */
  reportingMta: string;
  /** Who gets the bounce (the original envelope sender). */
  to: string;
  original: Buffer;
  failed: FailedRecipient[];
  now?: Date;
}

// Node's socket errors ("connect ECONNREFUSED 10.0.0.5:25") name hosts and ports of
// the relay's network; a diagnostic is a server's reply or our own generic text.
const SOCKET_ERROR = /\b(?:connect|read|write|getaddrinfo) E[A-Z]+(?: [^\s;,()]+)?/g;

/** The diagnostic as it may appear in a bounce: starting with a reply code, no socket errors. */
export function safeDiagnostic(text: string): string {
  const clean = text.replace(SOCKET_ERROR, "connection failed");
  return /^[245]\d\d /.test(clean) ? clean : "554 5.0.0 Delivery failed";
}

function fold(text: string): string {
  return safeDiagnostic(text.replace(/[\r\n]+/g, " ")).slice(0, 900);
}

export function buildBounce(input: BounceInput): Buffer {
  const now = input.now ?? new Date();
  const boundary = `dsn-${randomBytes(12).toString("hex")}`;
  const messageId = `<${randomBytes(16).toString("hex")}@${input.domain}>`;
  const originalId = headerValue(input.original, "Message-ID");
  const headers = headerBlock(input.original).replace(/\r?\n/g, "\r\n");
  const lines = input.failed.map((f) => `  ${f.recipient}: ${fold(f.diagnostic)}`);
  const perRecipient = input.failed
    .map((f) =>
      [
        `Final-Recipient: rfc822; ${f.recipient}`,
        "Action: failed",
        `Status: ${f.status}`,
        `Diagnostic-Code: smtp; ${fold(f.diagnostic)}`,
      ].join("\r\n"),
    )
    .join("\r\n\r\n");
  const text = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.domain}>`,
    `To: <${input.to}>`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${now.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: ${messageId}`,
    ...(originalId ? [`In-Reply-To: ${originalId}`, `References: ${originalId}`] : []),
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Your message could not be delivered to these recipients:",
    "",
    ...lines,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${now.toUTCString().replace("GMT", "+0000")}`,
    "",
    perRecipient,
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    headers,
    "",
    `--${boundary}--`,
    "",
  ];
  return Buffer.from(text.join("\r\n"), "utf8");
}
