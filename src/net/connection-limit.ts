/**
 * Per-client connection caps, one mechanism for every listener (IMAP, SMTP
 * submission and MX, HTTPS, HTTP). A listener's connection handler is wrapped
 * so that a connection over the cap never reaches the protocol: no TLS
 * handshake, no greeting, no parser. The count is taken when the TCP
 * connection is accepted and given back exactly once, when that socket closes,
 * so a refused connection never decrements anyone's count.
 */
import type { Server, Socket } from "node:net";
import { addressKey } from "./address-key.ts";

export class ConnectionLimiter {
  private readonly open = new Map<string, number>();

  constructor(
    /** Most concurrent connections per client key (see addressKey). */
    readonly perAddress: number,
  ) {}

  /** Counts a connection from `ip`; false (and nothing counted) when it is over the cap. */
  acquire(ip: string | undefined): boolean {
    const key = addressKey(ip);
    const n = this.open.get(key) ?? 0;
    if (n >= this.perAddress) return false;
    this.open.set(key, n + 1);
    return true;
  }

  release(ip: string | undefined): void {
    const key = addressKey(ip);
    const n = (this.open.get(key) ?? 1) - 1;
    if (n <= 0) this.open.delete(key);
    else this.open.set(key, n);
  }

  /** Open connections counted for `ip`'s key. */
  count(ip: string | undefined): number {
    return this.open.get(addressKey(ip)) ?? 0;
  }

  /** Client keys with at least one open connection (memory is bounded by open sockets). */
  get size(): number {
    return this.open.size;
  }
}

/**
 * What a refused connection hears: a plaintext protocol line (an IMAP BYE, an
 * SMTP 421), or nothing on a TLS port where nothing can be said before the handshake.
 */
export type RefusalLine = string | null;

/** How long a refused connection may linger to read its refusal line. */
const REFUSAL_LINGER_MS = 1000;

/**
 * Puts `limiter` in front of `server`'s "connection" listeners (those present
 * now: net.Server's handler, tls.Server's handshake, http.Server's parser).
 */
export function limitConnections(server: Server, limiter: ConnectionLimiter, refusal: RefusalLine): void {
  const handlers = server.listeners("connection") as Array<(socket: Socket) => void>;
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    const ip = socket.remoteAddress;
    if (!limiter.acquire(ip)) {
      refuse(socket, refusal);
      return;
    }
    socket.once("close", () => limiter.release(ip));
    for (const h of handlers) h.call(server, socket);
  });
}

function refuse(socket: Socket, line: RefusalLine): void {
  socket.on("error", () => {});
  if (line === null) {
    socket.destroy();
    return;
  }
  socket.end(line);
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}
