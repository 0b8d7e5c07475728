/**
 * Helpers for the fuzzers that talk to a live relay: a logger that keeps the
 * error records (a programming error the relay caught is still a finding),
 * and a small byte-exact SMTP client over implicit TLS (a strict reply reader
 * over the shared line client, test/support/line-conn.ts).
 */
import { createLogger, type Logger } from "../../../src/log.ts";
import { crlfLine, dial, LineConn } from "../../support/line-conn.ts";

export interface CapturedLog {
  log: Logger;
  /** Records at level error or above, as JSON lines. */
  errors: string[];
}

export function capturingLogger(): CapturedLog {
  const errors: string[] = [];
  const log = createLogger("error", {
    write(line: string) {
      errors.push(line.trim());
    },
  });
  return { log, errors };
}

/** One SMTP reply: its code and lines (RFC 5321 §4.2: "NNN-" continues, "NNN " ends). */
export interface SmtpReply {
  code: number;
  lines: string[];
}

export class SmtpClient extends LineConn {
  static async connect(port: number): Promise<SmtpClient> {
    return new SmtpClient(await dial({ port, tls: true }), { encoding: "latin1" });
  }

  /**
   * The next reply. Throws when a line is not a reply line, when the
   * connection closes first, or after `timeoutMs`.
   */
  async reply(timeoutMs = 10_000): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    for (;;) {
      const line = await this.take(crlfLine, deadline, (why) => {
        if (why === "closed")
          throw new Error(`connection closed inside a reply; got ${JSON.stringify(lines)}`);
        throw new Error(`no SMTP reply within ${timeoutMs} ms; got ${JSON.stringify(lines)}`);
      });
      const m = /^([2-5]\d\d)([ -])([\x20-\x7e]*)$/.exec(line);
      if (!m) throw new Error(`malformed SMTP reply line ${JSON.stringify(line)}`);
      lines.push(line);
      if (lines.length > 1 && line.slice(0, 3) !== (lines[0] as string).slice(0, 3))
        throw new Error(`reply code changes inside a reply: ${JSON.stringify(lines)}`);
      if (m[2] === " ") return { code: Number(m[1]), lines };
    }
  }

  async command(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }
}

/** Bare CR and bare LF become CRLF, and the message ends with CRLF: what DATA carries. */
export function toWireLines(message: Buffer): Buffer {
  const s = message.toString("latin1").replace(/\r\n|\r|\n/g, "\r\n");
  return Buffer.from(s.endsWith("\r\n") || s === "" ? s : `${s}\r\n`, "latin1");
}

/** RFC 5321 §4.5.2 transparency: a line starting with "." gets another one, then the end mark. */
export function dataPayload(wire: Buffer): Buffer {
  const s = wire.toString("latin1");
  const stuffed = (s.startsWith(".") ? "." : "") + s.replaceAll("\r\n.", "\r\n..");
  return Buffer.from(`${stuffed}.\r\n`, "latin1");
}
