/** SMTP helpers for tests: nodemailer submissions and a raw line client. */
import type tls from "node:tls";
import nodemailer from "nodemailer";
import { dial, LineConn, smtpReply } from "./line-conn.ts";

export interface SendResult {
  ok: boolean;
  code?: number;
  response: string;
}

/** Submits raw bytes over implicit TLS (465-style) with AUTH. */
export async function submit(
  target: number | { host: string; port: number },
  user: string,
  password: string,
  envelope: { from: string; to: string[] },
  raw: Buffer,
  opts: { secure?: boolean } = {},
): Promise<SendResult> {
  const { host, port } = typeof target === "number" ? { host: "127.0.0.1", port: target } : target;
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: opts.secure ?? true,
    requireTLS: true,
    auth: { user, pass: password },
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    tls: { rejectUnauthorized: false },
  });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { ok: true, code: 250, response: info.response };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string; message: string };
    return { ok: false, code: err.responseCode, response: err.response ?? err.message };
  } finally {
    transport.close();
  }
}

/** A line-oriented SMTP client for transcripts (plaintext start, optional STARTTLS); no read timeout. */
export class RawSmtp extends LineConn {
  static async connect(port: number): Promise<RawSmtp> {
    const c = new RawSmtp(await dial({ port }), { encoding: "utf8" });
    await c.reply();
    return c;
  }

  /** Reads one complete (possibly multi-line) reply, its lines joined by CRLF. */
  async reply(): Promise<string> {
    const lines = await this.take(smtpReply, Number.POSITIVE_INFINITY, () => {
      throw new Error(`connection closed; buffer: ${this.buf}`);
    });
    return lines.join("\r\n").trimEnd();
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(options: tls.ConnectionOptions = {}): Promise<void> {
    const r = await this.command("STARTTLS");
    if (!r.startsWith("220")) throw new Error(r);
    await this.upgrade(options);
  }
}
