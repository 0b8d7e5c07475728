/** SMTP submission for the load generator: AUTH PLAIN, one reused connection per sender. */
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { TlsMode } from "./imap.ts";

export interface SmtpEndpoint {
  host: string;
  port: number;
  tls: TlsMode;
  servername?: string;
  verify?: boolean;
}

export interface Account {
  user: string;
  pass: string;
}

export interface Sent {
  /** performance.now() before MAIL FROM and at the reply after DATA. */
  tStart: number;
  tAccepted: number;
  response: string;
}

export class Sender {
  private conn: SMTPConnection | null = null;
  sent = 0;

  constructor(
    private readonly ep: SmtpEndpoint,
    readonly account: Account,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const conn = new SMTPConnection({
        host: this.ep.host,
        port: this.ep.port,
        secure: this.ep.tls === "implicit",
        requireTLS: this.ep.tls === "starttls",
        ignoreTLS: this.ep.tls === "none",
        tls: { rejectUnauthorized: this.ep.verify ?? false, servername: this.ep.servername || undefined },
        name: "bench-client.invalid",
        connectionTimeout: 30_000,
        greetingTimeout: 30_000,
        socketTimeout: 120_000,
        logger: false,
        debug: false,
      });
      let done = false;
      conn.on("error", (err: Error) => {
        if (!done) {
          done = true;
          reject(err);
        }
      });
      conn.on("end", () => {
        if (this.conn === conn) this.conn = null;
      });
      conn.connect((err?: Error | null) => {
        if (err) {
          done = true;
          return reject(err);
        }
        conn.login(
          { user: this.account.user, pass: this.account.pass, method: "PLAIN" },
          (err2?: Error | null) => {
            if (done) return;
            done = true;
            if (err2) {
              conn.close();
              return reject(err2);
            }
            this.conn = conn;
            resolve();
          },
        );
      });
    });
  }

  /** Resolves when the server answered 250 after DATA. */
  async send(to: string, raw: Buffer): Promise<Sent> {
    if (!this.conn) await this.open();
    const conn = this.conn!;
    const tStart = performance.now();
    return new Promise((resolve, reject) => {
      conn.send({ from: this.account.user, to: [to] }, raw, (err, info) => {
        const tAccepted = performance.now();
        if (err) {
          // start from a fresh connection after an error
          try {
            conn.close();
          } catch {}
          if (this.conn === conn) this.conn = null;
          return reject(err);
        }
        const i = info as unknown as { rejected?: string[]; response: string };
        if (i.rejected?.length) return reject(new Error(`rejected: ${i.response}`));
        this.sent++;
        resolve({ tStart, tAccepted, response: i.response });
      });
    });
  }

  close(): void {
    if (this.conn) {
      try {
        this.conn.quit();
      } catch {}
      this.conn = null;
    }
  }
}
