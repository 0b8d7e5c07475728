/**
 * A text client over implicit TLS from a chosen local address (all of 127/8 is
 * local, so tests can act as several clients): buffers what arrives and hands
 * out whatever `next` parses off the front of the buffer, or null once closed.
 * A thin layer over the shared line client (line-conn.ts).
 */
import type * as tls from "node:tls";
import { dial, LineConn, type Take } from "./line-conn.ts";

/** Parses one item off the front of `buf`: the item and how many characters it used. */
export type Parse = Take<string>;

export class TlsLines extends LineConn {
  protected constructor(socket: tls.TLSSocket) {
    super(socket, { encoding: "utf8" });
  }

  protected static async open(port: number, localAddress: string): Promise<tls.TLSSocket> {
    return (await dial({ port, from: localAddress, tls: true })) as tls.TLSSocket;
  }

  /** The next item `parse` finds, or null once the connection is closed. */
  protected next(parse: Parse, timeoutMs: number): Promise<string | null> {
    return this.take(parse, Date.now() + timeoutMs, (why) => {
      if (why === "closed") return null;
      throw new Error(`timeout; buffer: ${this.buf}`);
    });
  }
}
