/** SMTP helpers for tests: nodemailer submissions and a raw line client. */
import net from "node:net";
import tls from "node:tls";
import nodemailer from "nodemailer";

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

/** A line-oriented SMTP client for transcripts (plaintext start, optional STARTTLS). */
export class RawSmtp {
  private buf = "";
  private waiters: Array<() => void> = [];
  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket | tls.TLSSocket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  static async connect(port: number): Promise<RawSmtp> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const c = new RawSmtp(socket);
    await c.reply();
    return c;
  }

  /** Reads one complete (possibly multi-line) reply. */
  async reply(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-.*\r\n)*\d{3}(?: .*)?\r\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return m[0].trimEnd();
      }
      await new Promise<void>((resolve, reject) => {
        this.waiters.push(resolve);
        this.socket.once("close", () => reject(new Error(`connection closed; buffer: ${this.buf}`)));
      });
    }
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(options: tls.ConnectionOptions = {}): Promise<void> {
    const r = await this.command("STARTTLS");
    if (!r.startsWith("220")) throw new Error(r);
    this.socket.removeAllListeners("data");
    const secure = tls.connect({ ...options, socket: this.socket as net.Socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
