/**
 * The byte pipe under a session: a TCP or TLS socket, upgraded in place by
 * STARTTLS (RFC 3501 §6.2.1) and optionally wrapped in raw DEFLATE both ways by
 * COMPRESS (RFC 4978). The session only sees `onData` and `write`.
 */
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import * as zlib from "node:zlib";

export interface TransportEvents {
  transportData(chunk: Buffer): void;
  /** The peer went away or an error occurred; called once. */
  transportClosed(): void;
  /** Output dropped below the high-water mark. */
  transportDrained(): void;
}

/**
 * The transport a socket (or, under COMPRESS, its inflater and deflater) feeds.
 * The listeners below are shared by every session and find their transport
 * here: an idle session holds no closures of its own for its socket's events.
 */
const OWNER = Symbol("chatrelay.transport");
type Owned = { [OWNER]?: Transport };

function onSocketData(this: Owned, chunk: Buffer): void {
  this[OWNER]?.events.transportData(chunk);
}

function onSocketClose(this: Owned): void {
  this[OWNER]?.finish();
}

function onSocketDrain(this: Owned): void {
  this[OWNER]?.events.transportDrained();
}

export class Transport {
  private deflate: zlib.DeflateRaw | null = null;
  private inflate: zlib.InflateRaw | null = null;
  private closed = false;

  constructor(
    public socket: Socket,
    readonly events: TransportEvents,
  ) {
    this.attach(socket);
  }

  get tls(): boolean {
    return this.socket instanceof TLSSocket;
  }

  get compressed(): boolean {
    return this.deflate !== null;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "";
  }

  /** Bytes written but not yet handed to the kernel. */
  get backlog(): number {
    return this.socket.writableLength + (this.deflate?.writableLength ?? 0);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private attach(socket: Socket): void {
    (socket as Owned)[OWNER] = this;
    socket.on("data", onSocketData);
    socket.on("close", onSocketClose);
    socket.on("drain", onSocketDrain);
    socket.on("error", noop);
  }

  private detach(socket: Socket): void {
    socket.off("data", onSocketData);
    socket.off("close", onSocketClose);
    socket.off("drain", onSocketDrain);
    (socket as Owned)[OWNER] = undefined;
  }

  /** Called once, when the socket closed or the transport was destroyed. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.transportClosed();
  }

  write(data: Buffer | string): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.deflate) {
      this.deflate.write(data);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    } else this.socket.write(data);
  }

  writev(chunks: Buffer[]): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.deflate) {
      for (const c of chunks) this.deflate.write(c);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
      return;
    }
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  /** Sends what is queued, then closes. */
  end(): void {
    if (this.closed) return;
    if (this.deflate) {
      this.deflate.end();
      this.deflate.once("end", () => this.socket.end());
    } else this.socket.end();
    // A peer that never reads would keep the socket forever.
    const s = this.socket;
    setTimeout(() => s.destroy(), 5000).unref();
  }

  destroy(): void {
    this.socket.destroy();
    this.inflate?.destroy();
    this.deflate?.destroy();
    this.finish();
  }

  /**
   * STARTTLS: wraps the plain socket in TLS. Resolves when the handshake is done,
   * rejects when it fails (the caller then closes).
   */
  startTls(context: SecureContext, timeoutMs: number): Promise<void> {
    const plain = this.socket;
    this.detach(plain);
    // A paused plain socket would never deliver the handshake.
    plain.resume();
    // The minimum TLS version is part of the secure context.
    const secure = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.socket = secure;
    this.attach(secure);
    return new Promise((resolve, reject) => {
      // new TLSSocket() has no handshakeTimeout option: a client that says
      // STARTTLS and then nothing must not hold the connection.
      const timer = setTimeout(() => fail(new Error("TLS handshake timeout")), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        secure.off("secure", ok);
        secure.off("error", fail);
        reject(err);
      };
      const ok = () => {
        clearTimeout(timer);
        secure.off("error", fail);
        resolve();
      };
      secure.once("secure", ok);
      secure.once("error", fail);
    });
  }

  /** COMPRESS=DEFLATE: from now on both directions are raw DEFLATE (RFC 4978 §3, RFC 1951). */
  startCompression(pending: Buffer[]): void {
    const socket = this.socket;
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw({ level: 6 });
    socket.off("data", onSocketData);
    socket.on("data", (c: Buffer) => inflate.write(c));
    (inflate as Owned)[OWNER] = this;
    (deflate as Owned)[OWNER] = this;
    inflate.on("data", onSocketData);
    inflate.on("error", () => this.destroy());
    deflate.on("data", (c: Buffer) => socket.write(c));
    deflate.on("error", () => this.destroy());
    deflate.on("drain", onSocketDrain);
    this.inflate = inflate;
    this.deflate = deflate;
    for (const b of pending) inflate.write(b);
  }
}

function noop(): void {}
