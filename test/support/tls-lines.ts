/**
 * A text client over implicit TLS from a chosen local address (all of 127/8 is
 * local, so tests can act as several clients): buffers what arrives and hands
 * out whatever `next` parses off the front of the buffer, or null once closed.
 */
import * as net from "node:net";
import * as tls from "node:tls";

/** Parses one item off the front of `buf`: the item and how many characters it used. */
export type Parse = (buf: string) => { value: string; used: number } | null;

export class TlsLines {
  private buf = "";
  private waiters: Array<() => void> = [];
  closed = false;

  protected constructor(private readonly socket: tls.TLSSocket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  protected static async open(port: number, localAddress: string): Promise<tls.TLSSocket> {
    const raw = net.connect({ port, host: "127.0.0.1", localAddress });
    await new Promise<void>((resolve, reject) => raw.once("connect", resolve).once("error", reject));
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    return socket;
  }

  /** The next item `parse` finds, or null once the connection is closed. */
  protected async next(parse: Parse, timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = parse(this.buf);
      if (item) {
        this.buf = this.buf.slice(item.used);
        return item.value;
      }
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`timeout; buffer: ${this.buf}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  write(text: string): void {
    this.socket.write(text);
  }

  close(): void {
    this.socket.destroy();
  }
}
