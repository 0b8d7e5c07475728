/**
 * The SMTP channel to another server's port 25 (docs/reference-relay.md §3.5): STARTTLS is
 * mandatory and the certificate is verified (relaxed only for "_" domains and
 * IP literals), PIPELINING when offered, connections kept for reuse.
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

export class SmtpPool {
  private readonly idle = new Map<string, Array<{ conn: SMTPConnection; timer: NodeJS.Timeout }>>();

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

  private async take(t: SmtpTarget): Promise<SMTPConnection> {
    const list = this.idle.get(this.key(t));
    while (list?.length) {
      const { conn, timer } = list.pop()!;
      clearTimeout(timer);
      const ok = await new Promise<boolean>((resolve) => conn.reset((err) => resolve(!err)));
      if (ok) return conn;
      conn.close();
    }
    return this.connect(t);
  }

  private give(t: SmtpTarget, conn: SMTPConnection): void {
    const key = this.key(t);
    const list = this.idle.get(key) ?? [];
    const entry = {
      conn,
      timer: setTimeout(() => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        conn.quit();
      }, IDLE_MS),
    };
    entry.timer.unref();
    list.push(entry);
    this.idle.set(key, list);
  }

  async send(
    t: SmtpTarget,
    envelope: { mailFrom: string; recipients: string[] },
    message: Buffer,
  ): Promise<SmtpOutcome> {
    let conn: SMTPConnection;
    try {
      conn = await this.take(t);
    } catch (e) {
      return { kind: "unreachable", error: connectionReason(e), detail: (e as Error).message };
    }
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
    for (const list of this.idle.values())
      for (const { conn, timer } of list) {
        clearTimeout(timer);
        conn.close();
      }
    this.idle.clear();
  }
}
