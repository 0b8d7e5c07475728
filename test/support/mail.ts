/** Test messages: the chatmail fixtures with their placeholders filled in. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../fixtures/chatmail-mail-data/", import.meta.url));

export type FixtureName =
  | "encrypted"
  | "fake-encrypted"
  | "securejoin-vc"
  | "securejoin-vc-fake"
  | "plain"
  | "literal"
  | "mdn"
  | "mailer-daemon"
  | "asm";

/** A fixture with {from_addr}, {to_addr}, {subject} replaced and CRLF line ends. */
export function fixture(name: FixtureName, from: string, to: string, subject = "Hi"): Buffer {
  const text = readFileSync(`${FIXTURES}${name}.eml`, "utf8")
    .replaceAll("{from_addr}", from)
    .replaceAll("{to_addr}", to)
    .replaceAll("{subject}", subject)
    .replace(/\r?\n/g, "\r\n");
  return Buffer.from(text, "utf8");
}

/** An encrypted message padded to about `size` bytes (the armored payload stays valid). */
export function encryptedOfSize(from: string, to: string, size: number): Buffer {
  const base = fixture("encrypted", from, to).toString("utf8");
  const pad = Math.max(0, size - base.length);
  // extra headers do not change the PGP/MIME structure
  const filler = `X-Padding: ${"x".repeat(70)}\r\n`.repeat(Math.ceil(pad / 83));
  return Buffer.from(filler + base, "utf8");
}
