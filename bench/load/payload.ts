/**
 * Benchmark messages: the chatmail fixture encrypted.eml (valid PGP/MIME, so it
 * passes any chatmail encryption gate), padded with extra header lines to the
 * wanted size. Only From, To and Message-ID change between messages, so every
 * target gets the same bytes.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(
  new URL("../../test/fixtures/chatmail-mail-data/encrypted.eml", import.meta.url),
);

export class MessageFactory {
  private readonly template: string;
  private readonly runId = randomBytes(6).toString("hex");
  private seq = 0;

  constructor(readonly size: number) {
    const base = readFileSync(FIXTURE, "utf8")
      .replace(/\r?\n/g, "\r\n")
      .replace(/^Message-ID: .*\r\n/im, "");
    const probe = this.fill(base, "u00001@bench.test", "u00002@bench.test", "x".repeat(40));
    const pad = Math.max(0, size - Buffer.byteLength(probe));
    // extra header lines do not change the PGP/MIME structure
    const line = `X-Bench-Padding: ${"x".repeat(62)}\r\n`;
    const filler =
      line.repeat(Math.floor(pad / line.length)) +
      (pad % line.length >= 20 ? `X-P: ${"x".repeat((pad % line.length) - 7)}\r\n` : "");
    this.template = `Message-ID: <{msgid}>\r\n${filler}${base}`;
  }

  private fill(text: string, from: string, to: string, id: string): string {
    return text
      .replaceAll("{from_addr}", from)
      .replaceAll("{to_addr}", to)
      .replaceAll("{subject}", "[...]")
      .replace("{msgid}", id);
  }

  make(from: string, to: string): Buffer {
    const id = `bench-${this.runId}-${String(++this.seq).padStart(7, "0")}@bench.test`;
    return Buffer.from(this.fill(this.template, from, to, id), "utf8");
  }
}
