/**
 * The HTTPS channel between relays (reference §3.5): POST https://<mx>/mxdeliv
 * with X-MAIL-FROM (omitted for the null sender), one X-MAIL-TO per recipient
 * and the raw message as body. Any 2xx means delivered.
 */
import { type Agent, request } from "node:https";

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
  | { ok: true; status: number; text: string }
  | { ok: false; status?: number; error: string };

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
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8").trim().slice(0, 500);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve({ ok: true, status, text });
        else resolve({ ok: false, status, error: `HTTP ${status} ${text}` });
      });
      res.on("error", (e) => resolve({ ok: false, status: res.statusCode, error: e.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ ok: false, error: e.message }));
    req.end(message);
  });
}
