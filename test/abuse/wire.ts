/**
 * Lean raw clients for the abuse suite: a line reader over TCP or TLS that can
 * leave from any loopback address (all of 127.0.0.0/8 is local on Linux), so
 * one test plays several client addresses. Attackers must cost the test process
 * little memory (the relay runs in the same process and RSS is measured), so
 * nothing here buffers more than the replies it is asked for.
 */
import type * as net from "node:net";
import { crlfLine, type DialOptions, dial, LineConn, smtpReply } from "../support/line-conn.ts";

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
export class Conn extends LineConn {
  constructor(socket: net.Socket) {
    // attackers never read much; keep at most 64 KiB of unread replies
    super(socket, { encoding: "latin1", keep: 65536 });
  }

  static async open(o: ConnectOptions): Promise<Conn> {
    const socket = await rawSocket(o);
    return new Conn(socket);
  }

  private ended = (why: "closed" | "timeout"): never => {
    const what = why === "closed" ? "connection closed" : "timeout";
    throw new Error(`${what}; unread: ${JSON.stringify(this.buf.slice(0, 300))}`);
  };

  /** One line without its CRLF. */
  line(ms = 10_000): Promise<string> {
    return this.take(crlfLine, Date.now() + ms, this.ended);
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

  /** One complete SMTP reply, its lines joined by "\n". */
  async reply(ms = 10_000): Promise<string> {
    return (await this.take(smtpReply, Date.now() + ms, this.ended)).join("\n");
  }

  async smtp(line: string, ms = 10_000): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply(ms);
  }

  /** Starts TLS on this connection (after a STARTTLS the server accepted). */
  startTls(ms = 10_000): Promise<void> {
    return this.upgrade({}, ms);
  }
}

/** A connected socket (TLS handshake done when `o.tls`), from 127.0.0.1 unless `o.from`. */
export function rawSocket(o: ConnectOptions): Promise<net.Socket> {
  const d: DialOptions = { port: o.port, from: o.from ?? "127.0.0.1", timeout: o.timeout ?? 10_000 };
  if (o.tls) d.tls = { ALPNProtocols: o.alpn };
  return dial(d);
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
