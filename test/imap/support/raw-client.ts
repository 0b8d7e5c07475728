/**
 * A raw IMAP client for byte-exact transcripts: sends what it is told and reads
 * responses (a response is a line plus any literals it announces, kept inline).
 */
import * as net from "node:net";
import * as tls from "node:tls";

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  /** Every response received, in order. */
  readonly log: string[] = [];

  private constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on("data", (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<RawClient> {
    const useTls = opts.tls ?? true;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = useTls
        ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => resolve(s))
        : net.connect({ port, host: "127.0.0.1" }, () => resolve(s));
      s.once("error", reject);
    });
    const c = new RawClient(socket);
    return c;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Upgrades to TLS (after a STARTTLS OK). */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  private async waitData(deadline: number): Promise<void> {
    if (this.ended) throw new Error(`connection closed; received:\n${this.log.join("")}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout; received:\n${this.log.join("")}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** The next complete response, CRLF included, literals inline. */
  async read(timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let pos = 0;
    for (;;) {
      const nl = this.buf.indexOf(0x0a, pos);
      if (nl < 0) {
        await this.waitData(deadline);
        continue;
      }
      const m = /\{(\d+)\}\r\n$/.exec(this.buf.toString("latin1", Math.max(0, nl - 20), nl + 1));
      if (m) {
        const need = nl + 1 + Number(m[1]);
        if (this.buf.length < need) {
          await this.waitData(deadline);
          continue;
        }
        pos = need;
        continue;
      }
      const out = this.buf.toString("latin1", 0, nl + 1);
      this.buf = this.buf.subarray(nl + 1);
      this.log.push(out);
      return out;
    }
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

  close(): void {
    this.socket.destroy();
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
