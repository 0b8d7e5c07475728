/**
 * POST /mxdeliv: mail from another relay over HTTPS (docs/reference-relay.md §3.5, receiving
 * side): X-MAIL-FROM (absent for the null sender), one X-MAIL-TO per
 * recipient, the raw message as body. The same incoming checks as SMTP port
 * 25; 200 with the SMTP reply on success, 400 with the SMTP error otherwise,
 * 413 when the body is over max_message_size, 503 while the relay-wide body
 * budget is used up, 405 for other methods.
 *
 * Everything here runs before any authentication of the peer, so every check
 * is linear in its input, the envelope is checked before a byte of the body is
 * read, and the body is held within the body budget (src/net/body-budget.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Envelope, Origin, Reply } from "../delivery/types.ts";
import type { Logger } from "../log.ts";
import type { BodyBudget, BodyReservation } from "../net/body-budget.ts";
import { methodNotAllowed, peerIp, send } from "./respond.ts";

export interface MxDelivery {
  accept(envelope: Envelope, message: Buffer, origin: Origin): Promise<Reply>;
}

/** As SMTP's recipient limit (src/smtp/server.ts MAX_RECIPIENTS, RFC 5321 §4.5.3.1.8 asks for at least 100). */
export const MAX_MXDELIV_RECIPIENTS = 1000;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets. */
const MAX_PATH = 256;

/**
 * "local@domain" without white space, angle brackets or controls, with
 * something on both sides of the last "@". One pass, no backtracking.
 */
export function plausibleAddress(value: string): boolean {
  if (value.length === 0 || value.length > MAX_PATH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e) return false;
  }
  const at = value.lastIndexOf("@");
  return at > 0 && at < value.length - 1;
}

/** A header's values with one pair of surrounding angle brackets removed. */
function headerValues(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? []).map((v) => {
    const t = v.trim();
    return t.length >= 2 && t.startsWith("<") && t.endsWith(">") ? t.slice(1, -1) : t;
  });
}

type BodyResult =
  | { kind: "body"; body: Buffer }
  | { kind: "too-big" }
  | { kind: "no-memory" }
  | { kind: "aborted" };

/** Reads the body up to `limit` bytes, reserving each chunk in the body budget. */
function readBody(req: IncomingMessage, limit: number, reservation: BodyReservation): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (r: BodyResult) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onError);
      chunks.length = 0;
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) finish({ kind: "too-big" });
      else if (!reservation.add(c.length)) finish({ kind: "no-memory" });
      else chunks.push(c);
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks, size);
      finish({ kind: "body", body });
    };
    const onError = () => finish({ kind: "aborted" });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onError);
  });
}

/** Ends a request whose body is not read: the connection cannot be reused. */
function refuse(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  send(res, status, text, { Connection: "close", ...extra });
  res.once("finish", () => res.socket?.destroySoon());
}

export async function handleMxDeliv(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { delivery: MxDelivery; maxMessageSize: number; log: Logger; bodies: BodyBudget },
): Promise<void> {
  if (req.method !== "POST") {
    methodNotAllowed(res, "POST");
    return;
  }
  const from = headerValues(req, "x-mail-from");
  const recipients = headerValues(req, "x-mail-to");
  const mailFrom = from[0] ?? "";
  if (from.length > 1 || (mailFrom !== "" && !plausibleAddress(mailFrom))) {
    refuse(res, 400, "501 5.1.7 Bad sender address syntax\n");
    return;
  }
  if (recipients.length === 0 || !recipients.every(plausibleAddress)) {
    refuse(res, 400, "501 5.1.3 Bad recipient address syntax\n");
    return;
  }
  if (recipients.length > MAX_MXDELIV_RECIPIENTS) {
    refuse(res, 400, "452 4.5.3 Too many recipients\n");
    return;
  }
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > deps.maxMessageSize) {
    refuse(res, 413, "552 Message exceeds maximum size\n");
    return;
  }
  const reservation = deps.bodies.open(req.socket.remoteAddress);
  try {
    const read = await readBody(req, deps.maxMessageSize, reservation);
    if (read.kind === "aborted") return;
    if (read.kind === "too-big") {
      refuse(res, 413, "552 Message exceeds maximum size\n");
      return;
    }
    if (read.kind === "no-memory") {
      // RFC 3463 §3.5 X.3.1; the sending relay retries (or falls back to SMTP, which says the same)
      refuse(res, 503, "452 4.3.1 Insufficient system resources\n", { "Retry-After": "60" });
      return;
    }
    let reply: Reply;
    try {
      reply = await deps.delivery.accept({ mailFrom, recipients }, read.body, {
        kind: "mx",
        peerIp: peerIp(req),
        via: "https",
      });
    } catch (e) {
      deps.log.error({ err: (e as Error).message }, "mxdeliv: delivery failed");
      reply = { code: 451, text: "4.3.0 Local error" };
    }
    const ok = reply.code >= 200 && reply.code < 300;
    send(res, ok ? 200 : 400, `${reply.code} ${reply.text}\n`);
  } finally {
    reservation.release();
  }
}
