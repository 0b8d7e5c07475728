// The accept/reject decisions of the relay's mail filter, one function per
// decision, with the reply codes and texts of chatmail's filtermail
// (docs/reference-relay.md §3.3 outgoing, §3.4 incoming). Pure: the caller
// does I/O (DKIM verification, the recipients' E2EE flags, the rate limiter's
// state) and applies the verdict.

import { isEncrypted } from "./encryption.ts";
import { isMailerDaemonReport, isSelfSentSetupMessage } from "./exemptions.ts";
import { extractFrom, type FromResult } from "./from.ts";
import type { Gcra } from "./gcra.ts";
import { canonicalIp } from "./ip.ts";
import { type MimeShape, parseMimeShape } from "./mime-shape.ts";
import { isSecureJoin } from "./securejoin.ts";
import { ACCEPT, ENCRYPTION_NEEDED, reject, type Verdict } from "./verdict.ts";

export type { Verdict } from "./verdict.ts";

/**
 * What the encryption check saw (filtermail's "Filtering encrypted mail." and
 * "Filtering unencrypted mail." lines, counted by metrics); not reported for a
 * message refused before that check (parse error, bad From).
 */
export type Filtered = "encrypted" | "unencrypted" | "mailer-daemon";

export interface OutgoingInput {
  /** Envelope sender (MAIL FROM), already the authenticated login. */
  mailFrom: string;
  recipients: readonly string[];
  message: Buffer;
  onFiltered?: (what: Filtered) => void;
}

export interface IncomingInput {
  mailFrom: string;
  recipients: readonly string[];
  message: Buffer;
  /** True if the recipient's mailbox refuses cleartext (`enforceE2EEincoming`). */
  enforceE2EE: (recipient: string) => boolean;
  onFiltered?: (what: Filtered) => void;
}

export interface IncomingFacts {
  /** The envelope sender to use from here on: MAIL FROM, or "" if it differs from the From header. */
  envelopeFrom: string;
  /** The From address ("" if it could not be parsed). */
  from: string;
  /** Domain of the From address: a name, or a literal such as "[192.0.2.1]". */
  fromDomain: string;
  /** Which origin check the caller must still run before accepting. */
  needs: "dkim" | "ip-literal";
}

export type IncomingVerdict = Verdict & IncomingFacts;

const MAX_ECHO = 200;

/** Header text echoed in a reply: one line, printable US-ASCII (RFC 5321 §4.2 textstring), bounded. */
function echo(s: string): string {
  const clean = s.replace(/[\x00-\x1f]/g, " ").replace(/[^\x20-\x7e]/g, "?");
  return clean.length > MAX_ECHO ? `${clean.slice(0, MAX_ECHO)}...` : clean;
}

function parse(message: Buffer): { ok: true; shape: MimeShape } | { ok: false; verdict: Verdict } {
  const parsed = parseMimeShape(message);
  if (parsed.ok) return parsed;
  return { ok: false, verdict: reject(500, `Failed to parse message: ${parsed.error}`) };
}

function invalidFromHeader(from: FromResult & { ok: false }): Verdict {
  return reject(500, `Invalid FROM header: ${echo(from.raw)}`);
}

/** MAIL FROM on submission must have exactly one "@". */
export function checkMailFrom(mailFrom: string): Verdict {
  if (mailFrom.split("@").length !== 2) return reject(500, `Invalid from address <${echo(mailFrom)}>`);
  return ACCEPT;
}

/**
 * MAIL FROM on submission: the address check, then one cell of the sender's
 * rate limit (GCRA per envelope sender).
 */
export function checkSender(mailFrom: string, limiter: Gcra, wallNow: () => number = Date.now): Verdict {
  const address = checkMailFrom(mailFrom);
  if (!address.ok) return address;
  const taken = limiter.take(mailFrom.toLowerCase());
  if (taken.ok) return ACCEPT;
  const until = new Date(wallNow() + taken.retryAfterMs).toISOString();
  return reject(450, `4.7.1: Too much mail from <${echo(mailFrom)}>, rate-limited until ${until}`);
}

/** DATA on submission (§3.3). */
export function checkOutgoing(input: OutgoingInput): Verdict {
  const address = checkMailFrom(input.mailFrom);
  if (!address.ok) return address;
  const parsed = parse(input.message);
  if (!parsed.ok) return parsed.verdict;
  const shape = parsed.shape;
  const from = extractFrom(shape.headers);
  if (!from.ok) return invalidFromHeader(from);
  const fromAddress = from.mailbox.address;
  if (input.mailFrom.toLowerCase() !== fromAddress) {
    return reject(500, `Invalid FROM <${echo(fromAddress)}> for <${echo(input.mailFrom)}>`);
  }
  const encrypted = isEncrypted(shape, "outgoing") || isSecureJoin(shape);
  input.onFiltered?.(encrypted ? "encrypted" : "unencrypted");
  if (encrypted) return ACCEPT;
  if (isSelfSentSetupMessage(shape, fromAddress, input.recipients)) return ACCEPT;
  return ENCRYPTION_NEEDED;
}

/**
 * DATA on the MX path (§3.4 steps 1-5). On acceptance the caller must still
 * verify the origin as `needs` says: DKIM aligned with `fromDomain`, or
 * `checkIpLiteral` for a domain literal.
 */
export function checkIncoming(input: IncomingInput): IncomingVerdict {
  const facts: IncomingFacts = { envelopeFrom: input.mailFrom, from: "", fromDomain: "", needs: "dkim" };
  const parsed = parse(input.message);
  if (!parsed.ok) return { ...parsed.verdict, ...facts };
  const shape = parsed.shape;
  const from = extractFrom(shape.headers);
  if (!from.ok) return { ...invalidFromHeader(from), ...facts };
  const { address, domain, literal } = from.mailbox;
  facts.from = address;
  facts.fromDomain = domain;
  facts.needs = literal === null ? "dkim" : "ip-literal";
  // filtermail#67: a forwarder (SRS) may change MAIL FROM; do not reject,
  // but drop the envelope sender so no bounce goes to a forged address.
  if (input.mailFrom.toLowerCase() !== address) facts.envelopeFrom = "";
  if (isEncrypted(shape, "incoming") || isSecureJoin(shape)) {
    input.onFiltered?.("encrypted");
    return { ...ACCEPT, ...facts };
  }
  const bounce = isMailerDaemonReport(shape, address);
  input.onFiltered?.(bounce ? "mailer-daemon" : "unencrypted");
  if (bounce) return { ...ACCEPT, ...facts };
  if (input.recipients.some((r) => input.enforceE2EE(r))) return { ...ENCRYPTION_NEEDED, ...facts };
  return { ...ACCEPT, ...facts };
}

/**
 * For a From domain literal, the literal must be the connecting IP.
 * `fromDomain` may be bracketed ("[192.0.2.1]", "[IPv6:2001:db8::1]") or bare.
 */
export function checkIpLiteral(fromDomain: string, peerIp: string): Verdict {
  let literal = fromDomain.trim().toLowerCase();
  if (literal.startsWith("[") && literal.endsWith("]")) literal = literal.slice(1, -1);
  if (literal.startsWith("ipv6:")) literal = literal.slice(5);
  const peer = canonicalIp(peerIp) ?? peerIp.trim().toLowerCase();
  const want = canonicalIp(literal);
  if (want !== null && want === peer) return ACCEPT;
  const shown = peer.includes(":") ? peerIp.trim().toLowerCase() : peer;
  return reject(500, `Invalid FROM domain literal: ${echo(literal)} does not match origin IP ${echo(shown)}`);
}
