/**
 * Lean raw clients for the abuse suite: a line reader over TCP or TLS that can
 * leave from any loopback address (all of 127.0.0.0/8 is local on Linux), so
 * one test plays several client addresses. Attackers must cost the test process
 * little memory (the relay runs in the same process and RSS is measured), so
 * nothing here buffers more than the replies it is asked for.
 */
import * as net from "node:net";
import * as tls from "node:tls";

export interface ConnectOptions {
  port: number;
  /** Client address; 127.0.0.1 when not given. */
  from?: string;
  /** Implicit TLS from the first byte. */
  tls?: boolean;
  /** ALPN protocols offered (TLS only). */
  alpn?: string[];
  /** Milliseconds to wait for the connection (and the TLS handshake). */
  timeout?: number;
}

/** A connection read line by line; `closedAt` says when the server closed it. */
export class Conn {
  private buf = "";
  private waiters: Array<() => void> = [];
  /** Date.now() when the socket closed, undefined while it is open. */
  closedAt: number | undefined;
  readonly openedAt = Date.now();

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      // attackers never read much; keep at most 64 KiB of unread replies
      this.buf = (this.buf + d).slice(-65536);
      this.wake();
    });
    socket.on("close", () => {
      this.closedAt ??= Date.now();
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async open(o: ConnectOptions): Promise<Conn> {
    const socket = await rawSocket(o);
    return new Conn(socket);
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Milliseconds the connection was (or has been) open. */
  get heldMs(): number {
    return (this.closedAt ?? Date.now()) - this.openedAt;
  }

  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  private async waitData(deadline: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.slice(0, 300))}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout; unread: ${JSON.stringify(this.buf.slice(0, 300))}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** One line without its CRLF. */
  async line(ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return l;
      }
      await this.waitData(deadline);
    }
  }

  /** Lines until one starts with `prefix` (an IMAP tag plus space); returns that line. */
  async until(prefix: string, ms = 10_000, seen?: (l: string) => void): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const l = await this.line(Math.max(1, deadline - Date.now()));
      if (l.startsWith(prefix)) return l;
      seen?.(l);
    }
  }

  /** One complete SMTP reply (RFC 5321 §4.2: continuation lines have "-" after the code). */
  async reply(ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(Math.max(1, deadline - Date.now()));
      lines.push(l);
      if (!/^\d{3}-/.test(l)) return lines.join("\n");
    }
  }

  async smtp(line: string, ms = 10_000): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply(ms);
  }

  /** Starts TLS on this connection (after a STARTTLS the server accepted). */
  async startTls(ms = 10_000): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: plain, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
      setTimeout(() => reject(new Error("TLS handshake timeout")), ms).unref();
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** Resolves when the server closes the connection, or after `ms` (then false). */
  async waitClosed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A connected socket (TLS handshake done when `o.tls`). */
export function rawSocket(o: ConnectOptions): Promise<net.Socket> {
  const from = o.from ?? "127.0.0.1";
  return new Promise<net.Socket>((resolve, reject) => {
    const raw = net.connect({ port: o.port, host: "127.0.0.1", localAddress: from }, () => {
      if (!o.tls) return done(raw);
      const s = tls.connect({ socket: raw, rejectUnauthorized: false, ALPNProtocols: o.alpn }, () => done(s));
      s.once("error", fail);
    });
    const timer = setTimeout(() => {
      raw.destroy();
      reject(new Error(`connect to ${o.port} from ${from} timed out`));
    }, o.timeout ?? 10_000);
    function done(s: net.Socket): void {
      clearTimeout(timer);
      raw.off("error", fail);
      s.off("error", fail);
      resolve(s);
    }
    function fail(e: Error): void {
      clearTimeout(timer);
      raw.destroy();
      reject(e);
    }
    raw.once("error", fail);
  });
}

/**
 * A TCP connection that stays in the TLS handshake: sends nothing (or only the
 * first bytes of a ClientHello) and never completes it.
 */
export async function stalledHandshake(port: number, from: string, partial = false): Promise<Conn> {
  const c = await Conn.open({ port, from });
  // a ClientHello record header announcing 512 bytes, then silence
  if (partial) c.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
  return c;
}

/** Writes `data` one byte every `everyMs` until done, the connection closes or `stop()` is called. */
export function drip(c: Conn, data: string, everyMs: number): { stop(): void } {
  let i = 0;
  const t = setInterval(() => {
    if (c.closed || i >= data.length) {
      clearInterval(t);
      return;
    }
    c.write(data[i++] as string);
  }, everyMs);
  return { stop: () => clearInterval(t) };
}

/**
 * Writes `total` bytes of `fill` in 64 KiB chunks, honouring backpressure so the
 * test process never queues more than one chunk; stops early when the server
 * stops reading for `stallMs` or closes. Returns the bytes handed to the kernel.
 */
export async function pump(c: Conn, total: number, stallMs = 2000, fill = "x"): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let sent = 0;
  while (sent < total && !c.closed) {
    const n = Math.min(chunk.length, total - sent);
    const ok = c.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    sent += n;
    if (!ok) {
      const drained = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), stallMs);
        c.socket.once("drain", () => {
          clearTimeout(t);
          resolve(true);
        });
        c.socket.once("close", () => {
          clearTimeout(t);
          resolve(false);
        });
      });
      if (!drained) break;
    }
  }
  return sent;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The n-th attacker address (127.0.0.2 upwards; the canary uses 127.0.0.1). */
export function attacker(n = 0): string {
  return `127.0.0.${2 + n}`;
}
