/** Test messages: the chatmail fixtures with their placeholders filled in. */
import { readdirSync, readFileSync } from "node:fs";
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

/** The names of the .eml files in the fixture folder, sorted. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".eml"))
    .map((f) => f.slice(0, -".eml".length))
    .sort();
}

/**
 * A fixture with {from_addr}, {to_addr}, {subject} replaced and CRLF line ends.
 * The upstream files mix LF and CRLF; mail on the wire is CRLF (RFC 5322 §2.1,
 * RFC 5321 §2.3.8), so every test sees the vectors as a relay receives them.
 */
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
