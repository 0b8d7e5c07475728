/**
 * A raw IMAP client for byte-exact transcripts: sends what it is told and reads
 * responses (a response is a line plus any literals it announces, kept inline).
 */
import type * as net from "node:net";
import { dial, imapResponse, LineConn } from "../../support/line-conn.ts";

export class RawClient extends LineConn {
  /** Every response received, in order. */
  readonly log: string[] = [];

  private constructor(socket: net.Socket) {
    super(socket, { encoding: "latin1" });
  }

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<RawClient> {
    return new RawClient(await dial({ port, tls: opts.tls ?? true }));
  }

  /** Upgrades to TLS (after a STARTTLS OK). */
  startTls(): Promise<void> {
    return this.upgrade();
  }

  /** The next complete response, CRLF included, literals inline. */
  async read(timeoutMs = 10000): Promise<string> {
    const out = await this.take(imapResponse, Date.now() + timeoutMs, (why) => {
      throw new Error(
        `${why === "closed" ? "connection closed" : "timeout"}; received:\n${this.log.join("")}`,
      );
    });
    this.log.push(out);
    return out;
  }

  /** Sends `tag command` and reads up to the tagged response; returns [untagged..., tagged]. */
  async command(tag: string, text: string | Buffer, timeoutMs = 10000): Promise<string[]> {
    this.write(
      typeof text === "string" ? `${tag} ${text}\r\n` : Buffer.concat([Buffer.from(`${tag} `), text]),
    );
    return this.until(tag, timeoutMs);
  }

  /** Reads responses until the one tagged `tag`. */
  async until(tag: string, timeoutMs = 10000): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const r = await this.read(timeoutMs);
      out.push(r);
      if (r.startsWith(`${tag} `)) return out;
    }
  }

  /** Reads until a response matches. */
  async waitFor(re: RegExp, timeoutMs = 10000): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const r = await this.read(timeoutMs);
      out.push(r);
      if (re.test(r)) return out;
    }
  }

  async login(user: string, password: string): Promise<void> {
    const r = await this.command("L1", `LOGIN ${quote(user)} ${quote(password)}`);
    if (!r[r.length - 1]!.startsWith("L1 OK")) throw new Error(`login failed: ${r.join("")}`);
  }
}

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/** Connects over implicit TLS, reads the greeting, logs in. */
export async function loggedIn(port: number, user: string, password: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.read();
  await c.login(user, password);
  return c;
}
