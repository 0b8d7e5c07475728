import tls from "node:tls";

/** A TLS client that reads CRLF lines. */
export class Lines {
  private buf = "";
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on("error", () => undefined);
  }

  static connect(port: number, opts: tls.ConnectionOptions): Promise<Lines> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({
        host: "127.0.0.1",
        port,
        rejectUnauthorized: false,
        servername: "_chatrelay.test",
        ...opts,
      });
      s.once("secureConnect", () => resolve(new Lines(s)));
      s.once("error", reject);
    });
  }

  /** The next line, or undefined when the peer closed. */
  async line(): Promise<string | undefined> {
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return line;
      }
      if (this.closed) return undefined;
      await new Promise<void>((r) => {
        this.waiter = r;
      });
      this.waiter = undefined;
    }
  }

  /** Lines up to and including the first that matches. */
  async until(re: RegExp): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === undefined) throw new Error(`closed before ${re}: ${out.join(" | ")}`);
      out.push(l);
      if (re.test(l)) return out;
    }
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  close(): void {
    this.socket.destroy();
  }
}
