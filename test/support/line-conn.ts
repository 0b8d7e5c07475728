/**
 * The one raw socket client under the tests' hand-written protocol clients
 * (abuse/wire.ts, imap/support/raw-client.ts, support/smtp.ts, http/lines.ts,
 * fuzz/lib/live.ts, support/tls-lines.ts): it dials (plain or implicit TLS,
 * optionally from a chosen local address: all of 127.0.0.0/8 is local on
 * Linux), buffers what arrives as text, wakes readers on data and on close,
 * takes framed items off the front of the buffer before a deadline, and
 * upgrades to TLS after a STARTTLS. The framing primitives are plain functions
 * (a CRLF line, an IMAP response with its literals inline, an SMTP reply); the
 * clients above choose their framing, timeouts and error messages.
 */
import * as net from "node:net";
import { StringDecoder } from "node:string_decoder";
import * as tls from "node:tls";

/** Parses one item off the front of `buf`: the item and how many characters it used, or null. */
export type Take<T> = (buf: string) => { value: T; used: number } | null;

export interface DialOptions {
  port: number;
  /** Server address; 127.0.0.1 when not given. */
  host?: string;
  /** Client (local) address; the kernel's choice when not given. */
  from?: string;
  /** Implicit TLS from the first byte; an object adds options to tls.connect. Certificates are not checked. */
  tls?: boolean | tls.ConnectionOptions;
  /** Milliseconds for the connection and the TLS handshake; no limit when not given. */
  timeout?: number;
}

/**
 * A connected socket, the TLS handshake done when `o.tls`. Without `from`, TLS
 * dials directly (tls.connect with host and port); with it, TLS runs over a TCP
 * socket bound to that address.
 */
export function dial(o: DialOptions): Promise<net.Socket> {
  const host = o.host ?? "127.0.0.1";
  const tlsOptions = o.tls === true ? {} : o.tls || undefined;
  return new Promise<net.Socket>((resolve, reject) => {
    const sockets: net.Socket[] = [];
    let timer: NodeJS.Timeout | undefined;
    const fail = (e: Error): void => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      reject(e);
    };
    const done = (s: net.Socket): void => {
      clearTimeout(timer);
      for (const x of sockets) x.off("error", fail);
      resolve(s);
    };
    const secure = (options: tls.ConnectionOptions): void => {
      const s = tls.connect({ rejectUnauthorized: false, ...options }, () => done(s));
      sockets.push(s);
      s.once("error", fail);
    };
    if (tlsOptions && o.from === undefined) secure({ host, port: o.port, ...tlsOptions });
    else {
      const raw = net.connect({ port: o.port, host, localAddress: o.from }, () =>
        tlsOptions ? secure({ ...tlsOptions, socket: raw }) : done(raw),
      );
      sockets.push(raw);
      raw.once("error", fail);
    }
    if (o.timeout !== undefined)
      timer = setTimeout(
        () => fail(new Error(`connect to ${o.port} from ${o.from ?? host} timed out`)),
        o.timeout,
      );
  });
}

/** One line without its CRLF. */
export const crlfLine: Take<string> = (buf) => {
  const i = buf.indexOf("\r\n");
  return i < 0 ? null : { value: buf.slice(0, i), used: i + 2 };
};

/**
 * One IMAP response, CRLF included: a line, and when it ends in a literal
 * announcement `{n}` (RFC 3501 §4.3) the n octets and the line after them, inline.
 * Byte-exact under latin1, where one character is one octet.
 */
export const imapResponse: Take<string> = (buf) => {
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf("\n", pos);
    if (nl < 0) return null;
    const m = /\{(\d+)\}\r\n$/.exec(buf.slice(Math.max(0, nl - 20), nl + 1));
    if (!m) return { value: buf.slice(0, nl + 1), used: nl + 1 };
    pos = nl + 1 + Number(m[1]);
    if (buf.length < pos) return null;
  }
};

/** One SMTP reply as its lines without CRLF (RFC 5321 §4.2: "NNN-" continues; any other line ends it). */
export const smtpReply: Take<string[]> = (buf) => {
  const lines: string[] = [];
  let used = 0;
  for (;;) {
    const l = crlfLine(buf.slice(used));
    if (!l) return null;
    lines.push(l.value);
    used += l.used;
    if (!/^\d{3}-/.test(l.value)) return { value: lines, used };
  }
};

export interface LineConnOptions {
  /** How octets become text: latin1 (one character per octet, the default) or utf8. */
  encoding?: "latin1" | "utf8";
  /** Keep at most this many characters of unread input; the oldest go first. */
  keep?: number;
}

/** A socket whose input is buffered as text and read in framed items, each before a deadline. */
export class LineConn {
  /** Date.now() when the socket closed, undefined while it is open. */
  closedAt: number | undefined;
  readonly openedAt = Date.now();
  /** Unread input. */
  protected buf = "";
  private readonly waiters = new Set<() => void>();
  private readonly encoding: "latin1" | "utf8";
  private readonly keep: number;
  private detach: () => void = () => {};

  constructor(
    public socket: net.Socket,
    opts: LineConnOptions = {},
  ) {
    this.encoding = opts.encoding ?? "latin1";
    this.keep = opts.keep ?? Number.POSITIVE_INFINITY;
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    const decoder = new StringDecoder(this.encoding);
    const onData = (d: Buffer | string): void => {
      this.buf += typeof d === "string" ? d : decoder.write(d);
      if (this.buf.length > this.keep) this.buf = this.buf.slice(-this.keep);
      this.wake();
    };
    const onClose = (): void => {
      this.closedAt ??= Date.now();
      this.wake();
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", () => {});
    this.detach = () => {
      socket.off("data", onData);
      socket.off("close", onClose);
    };
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Milliseconds the connection was (or has been) open. */
  get heldMs(): number {
    return (this.closedAt ?? Date.now()) - this.openedAt;
  }

  /** Writes unless the socket is gone; false when it is gone or its buffer is full. */
  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Resolves on the next data or close, or at `deadline` (a Date.now() value; Infinity: never). */
  protected wait(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = Number.isFinite(deadline)
        ? setTimeout(done, Math.max(1, deadline - Date.now()))
        : undefined;
      this.waiters.add(done);
    });
  }

  /**
   * The next item `parse` finds at the front of the unread input, taken off it.
   * When there is none and the connection is closed, or `deadline` has passed,
   * the result is `ended`'s (which may throw instead).
   */
  protected async take<T, E = never>(
    parse: Take<T>,
    deadline: number,
    ended: (why: "closed" | "timeout") => E,
  ): Promise<T | E> {
    for (;;) {
      const item = parse(this.buf);
      if (item) {
        this.buf = this.buf.slice(item.used);
        return item.value;
      }
      if (this.closed) return ended("closed");
      if (Date.now() >= deadline) return ended("timeout");
      await this.wait(deadline);
    }
  }

  /** Resolves when the server closes the connection, or after `ms` (then false). */
  async waitClosed(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.wait(deadline);
    return this.closed;
  }

  /**
   * Starts TLS on this connection (after a STARTTLS the server accepted); unread
   * input stays. Rejects with "TLS handshake timeout" after `ms` when given.
   */
  protected async upgrade(options: tls.ConnectionOptions = {}, ms?: number): Promise<void> {
    const plain = this.socket;
    this.detach();
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ ...options, socket: plain, rejectUnauthorized: false }, () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", reject);
      const timer =
        ms === undefined ? undefined : setTimeout(() => reject(new Error("TLS handshake timeout")), ms);
      timer?.unref();
    });
    this.socket = secure;
    this.attach(secure);
  }
}
