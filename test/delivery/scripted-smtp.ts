/**
 * An SMTP receiver on loopback (STARTTLS, self-signed) that answers each RCPT
 * TO as the test says, and records every RCPT it saw and every message it took.
 */
import type net from "node:net";
import { SMTPServer } from "smtp-server";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";

/** The reply to RCPT TO for an address: "250" accepts, "550 5.1.1 …" refuses. */
export type RcptScript = (address: string) => string;

export interface ScriptedSmtp {
  port: number;
  /** Every RCPT TO address, in order, over all connections. */
  rcpts: string[];
  /** Every accepted message: its accepted recipients. */
  messages: Array<{ to: string[] }>;
  close(): Promise<void>;
}

export async function scriptedSmtp(script: RcptScript, host = "127.0.0.1", port = 0): Promise<ScriptedSmtp> {
  const { key, cert } = await selfSignedCertificate(["localhost"]);
  const rcpts: string[] = [];
  const messages: ScriptedSmtp["messages"] = [];
  const server = new SMTPServer({
    key,
    cert,
    authOptional: true,
    disabledCommands: ["AUTH"],
    lenientAddressParsing: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      rcpts.push(address.address);
      const line = script(address.address);
      const m = /^(\d{3}) ?(.*)$/.exec(line);
      const code = Number(m?.[1] ?? 451);
      if (code < 300) return callback();
      const err = Object.assign(new Error(m?.[2] ?? "4.0.0 scripted"), { responseCode: code });
      callback(err);
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on("end", () => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address) });
        callback();
      });
    },
  });
  server.on("error", () => {});
  const bound = await new Promise<number>((resolve, reject) => {
    const s = server.server as net.Server;
    s.once("error", reject);
    s.listen(port, host, () => resolve((s.address() as net.AddressInfo).port));
  });
  return {
    port: bound,
    rcpts,
    messages,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
