/**
 * The HTTPS channel between relays (docs/reference-relay.md §3.5): POST https://<mx>/mxdeliv
 * with X-MAIL-FROM (omitted for the null sender), one X-MAIL-TO per recipient
 * and the raw message as body.
 *
 * Only an answer that is recognisably a chatmail /mxdeliv reply counts: the
 * receiving side (filtermail, src/http_server.rs in github.com/chatmail/filtermail)
 * answers 200 with the SMTP reply of the incoming handler as the body ("250 OK",
 * see src/smtp_responses.rs there), 400 with the SMTP error text ("523 Encryption
 * Needed: …") and 413 with "552 Message exceeds maximum size"; its body has no
 * Content-Type (ours is text/plain). Anything else, such as a web server that
 * answers 200 with a page to every request, a 404, a redirect or a 405, means
 * "no /mxdeliv here": the caller goes on with SMTP.
 */
import { type Agent, request } from "node:https";
import type { Reply } from "../types.ts";
import { connectionReason } from "./reasons.ts";

export interface HttpsTarget {
  /** MX host name: SNI, certificate name and Host header. */
  name: string;
  address: string;
  port: number;
  rejectUnauthorized: boolean;
  ca?: string[];
  timeoutMs: number;
  /** Source address (the relay's listen_address when it is a specific one). */
  localAddress?: string;
  agent?: Agent;
}

export type HttpsOutcome =
  /** A chatmail /mxdeliv answer: the SMTP reply it carries. */
  | { kind: "reply"; reply: Reply }
  /** No /mxdeliv answer: `reason` is generic (safe for bounces), `detail` is for the debug log. */
  | { kind: "unavailable"; reason: string; detail: string };

/** A real answer is one short line; more than this is a web page. */
const MAX_BODY = 4096;

// "250 OK", "523 Encryption Needed: …": a reply code (RFC 5321 §4.2.1), then a space or the end
const REPLY = /^([245][0-5]\d)(?: ([^\r\n]*))?$/;

/**
 * The SMTP reply in an /mxdeliv answer, or undefined when the answer is not one:
 * 200 must carry 250 (RFC 5321 §4.3.2: the reply to DATA), 400 and 413 a 4xx or 5xx.
 */
export function mxdelivReply(
  status: number,
  contentType: string | undefined,
  body: Buffer,
): Reply | undefined {
  if (contentType !== undefined && !/^text\/plain(?:;|$)/i.test(contentType.trim())) return undefined;
  if (body.length > MAX_BODY) return undefined;
  const text = body.toString("utf8");
  const end = text.search(/[\r\n]/);
  const m = REPLY.exec((end < 0 ? text : text.slice(0, end)).trimEnd());
  if (!m) return undefined;
  const code = Number(m[1]);
  const reply = { code, text: (m[2] ?? "").trim() };
  if (status === 200) return code === 250 ? reply : undefined;
  if (status === 400 || status === 413) return code >= 400 ? reply : undefined;
  return undefined;
}

export function postMxdeliv(
  target: HttpsTarget,
  envelope: { mailFrom: string; recipients: string[] },
  message: Buffer,
): Promise<HttpsOutcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string | string[] | number> = {
      Host: target.port === 443 ? target.name : `${target.name}:${target.port}`,
      "Content-Type": "message/rfc822",
      "Content-Length": message.length,
      "X-MAIL-TO": envelope.recipients,
    };
    if (envelope.mailFrom) headers["X-MAIL-FROM"] = envelope.mailFrom;
    const req = request({
      host: target.address,
      port: target.port,
      method: "POST",
      path: "/mxdeliv",
      servername: target.name.replace(/^\[|\]$/g, ""),
      rejectUnauthorized: target.rejectUnauthorized,
      ca: target.ca,
      headers,
      timeout: target.timeoutMs,
      localAddress: target.localAddress,
      agent: target.agent ?? false,
    });
    let done = false;
    const finish = (outcome: HttpsOutcome) => {
      if (done) return;
      done = true;
      resolve(outcome);
    };
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
        else {
          // a page, not an answer: stop reading it
          finish({
            kind: "unavailable",
            reason: `no /mxdeliv (HTTP ${status})`,
            detail: `HTTP ${status}, long body`,
          });
          res.destroy();
        }
      });
      res.on("end", () => {
        const reply = mxdelivReply(status, res.headers["content-type"], Buffer.concat(chunks));
        if (reply) finish({ kind: "reply", reply });
        else
          finish({ kind: "unavailable", reason: `no /mxdeliv (HTTP ${status})`, detail: `HTTP ${status}` });
      });
      res.on("error", (e) => finish({ kind: "unavailable", reason: connectionReason(e), detail: e.message }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (e) => finish({ kind: "unavailable", reason: connectionReason(e), detail: e.message }));
    req.end(message);
  });
}
