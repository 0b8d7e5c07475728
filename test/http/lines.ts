/** A TLS client that reads CRLF lines (no read timeout), over the shared line client. */
import type tls from "node:tls";
import { crlfLine, dial, LineConn } from "../support/line-conn.ts";

export class Lines extends LineConn {
  declare readonly socket: tls.TLSSocket;

  static async connect(port: number, opts: tls.ConnectionOptions): Promise<Lines> {
    const socket = await dial({ port, tls: { servername: "_chatrelay.test", ...opts } });
    return new Lines(socket, { encoding: "utf8" });
  }

  /** The next line, or undefined when the peer closed. */
  line(): Promise<string | undefined> {
    return this.take(crlfLine, Number.POSITIVE_INFINITY, () => undefined);
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
}
