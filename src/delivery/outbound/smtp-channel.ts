/**
 * The SMTP channel to another server's port 25 (docs/reference-relay.md §3.5): STARTTLS is
 * mandatory and the certificate is verified (relaxed only for "_" domains and
 * IP literals), PIPELINING when offered, connections kept for reuse.
 *
 * Reuse: a connection goes back to the pool only after a completed transaction
 * (the reply to the final "." clears the envelope, RFC 5321 §4.1.1.4 and §3.3), so
 * the next message starts with MAIL FROM at once, without an RSET round trip; with
 * PIPELINING (RFC 2920 §3.1) nodemailer sends MAIL, RCPT and DATA in one batch.
 * A pooled connection the peer closed while idle leaves the pool when it ends;
 * if one still fails before any reply, the message goes once more over a new one.
 */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { Reply } from "../types.ts";
import { connectionReason } from "./reasons.ts";

export interface SmtpTarget {
  name: string;
  address: string;
  port: number;
  rejectUnauthorized: boolean;
  ca?: string[];
  timeoutMs: number;
  localAddress?: string;
}

export type SmtpOutcome =
  /** The server answered: a reply per recipient (2xx accepted). */
  | { kind: "replies"; replies: Map<string, Reply> }
  /** Connection, TLS or protocol trouble: try the next MX. `error` is generic, `detail` for the debug log. */
  | { kind: "unreachable"; error: string; detail: string };

interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

const IDLE_MS = 100_000;

function toReply(response: string | undefined, fallback: number): Reply {
  const m = /^(\d{3})[ -]?(.*)$/s.exec(response ?? "");
  if (m) return { code: Number(m[1]), text: m[2]!.replace(/\r?\n\d{3}[ -]?/g, " ").trim() };
  return { code: fallback, text: response ?? "" };
}

interface Idle {
  conn: SMTPConnection;
  timer: NodeJS.Timeout;
  drop: () => void;
}

export class SmtpPool {
  private readonly idle = new Map<string, Idle[]>();

  constructor(private readonly ehloName: string) {}

  private key(t: SmtpTarget): string {
    return `${t.address}|${t.port}|${t.name}|${t.rejectUnauthorized}`;
  }

  private async connect(t: SmtpTarget): Promise<SMTPConnection> {
    const conn = new SMTPConnection({
      host: t.address,
      port: t.port,
      name: this.ehloName,
      localAddress: t.localAddress,
      requireTLS: true,
      connectionTimeout: t.timeoutMs,
      greetingTimeout: t.timeoutMs,
      socketTimeout: t.timeoutMs,
      tls: {
        servername: t.name.replace(/^\[|\]$/g, ""),
        rejectUnauthorized: t.rejectUnauthorized,
        ca: t.ca,
        minVersion: "TLSv1.2",
      },
    });
    conn.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      conn.once("error", reject);
      conn.connect(() => {
        conn.off("error", reject);
        resolve();
      });
    });
    return conn;
  }

  /** An idle connection to `t` after a completed transaction, if the pool has one. */
  private take(t: SmtpTarget): SMTPConnection | undefined {
    const entry = this.idle.get(this.key(t))?.pop();
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    entry.conn.off("end", entry.drop);
    return entry.conn;
  }

  private give(t: SmtpTarget, conn: SMTPConnection): void {
    const key = this.key(t);
    const list = this.idle.get(key) ?? [];
    const entry: Idle = {
      conn,
      timer: setTimeout(() => {
        entry.drop();
        conn.quit();
      }, IDLE_MS),
      // the peer hung up (its idle timeout, a restart): not one to reuse
      drop: () => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        clearTimeout(entry.timer);
      },
    };
    entry.timer.unref();
    conn.once("end", entry.drop);
    list.push(entry);
    this.idle.set(key, list);
  }

  async send(
    t: SmtpTarget,
    envelope: { mailFrom: string; recipients: string[] },
    message: Buffer,
  ): Promise<SmtpOutcome> {
    const reused = this.take(t);
    if (reused) {
      const outcome = await this.transact(t, reused, envelope, message);
      // no reply, or 421 "closing" (RFC 5321 §3.8), on a pooled connection: it was
      // ending while idle; a new connection gets the message its own answer
      const closing =
        outcome.kind === "replies" && [...outcome.replies.values()].every((r) => r.code === 421);
      if (outcome.kind === "replies" && !closing) return outcome;
    }
    let conn: SMTPConnection;
    try {
      conn = await this.connect(t);
    } catch (e) {
      return { kind: "unreachable", error: connectionReason(e), detail: (e as Error).message };
    }
    return this.transact(t, conn, envelope, message);
  }

  /** One transaction on `conn`; the connection returns to the pool after a completed one. */
  private async transact(
    t: SmtpTarget,
    conn: SMTPConnection,
    envelope: { mailFrom: string; recipients: string[] },
    message: Buffer,
  ): Promise<SmtpOutcome> {
    const replies = new Map<string, Reply>();
    try {
      const info = await new Promise<{ accepted: string[]; rejectedErrors?: SmtpError[]; response: string }>(
        (resolve, reject) =>
          conn.send({ from: envelope.mailFrom, to: envelope.recipients }, message, (err, info) =>
            err ? reject(err) : resolve(info as never),
          ),
      );
      const ok = toReply(info.response, 250);
      for (const r of info.accepted) replies.set(r, ok);
      for (const e of info.rejectedErrors ?? []) replies.set(e.recipient ?? "", toReply(e.response, 550));
      this.give(t, conn);
    } catch (e) {
      const err = e as SmtpError;
      conn.close();
      const rejected = err.rejectedErrors ?? [];
      if (err.code === "EENVELOPE" || err.code === "EMESSAGE" || err.responseCode) {
        for (const r of rejected) replies.set(r.recipient ?? "", toReply(r.response, 550));
        const whole = toReply(err.response, err.responseCode ?? 451);
        for (const r of envelope.recipients) if (!replies.has(r)) replies.set(r, whole);
      } else {
        return { kind: "unreachable", error: connectionReason(err), detail: err.message };
      }
    }
    return { kind: "replies", replies };
  }

  close(): void {
    // a copy: closing emits "end", whose listener takes the entry out of its list
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    for (const { conn, timer } of all) {
      clearTimeout(timer);
      conn.close();
    }
  }
}
