// The PGP/MIME shape rule must not be fooled by substrings, extra or nested
// parts, duplicated headers or case variations.

import assert from "node:assert/strict";
import { test } from "node:test";
import { checkEncrypted, isEncrypted } from "../../src/policy/encryption.ts";
import { armor, crlf, packet, pgpMime } from "./helpers.ts";

const body = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
const ARMOR = armor(Buffer.concat([packet(1, body(94)), packet(18, body(400))]));
const B = "YFrteb74qSXmggbOxZL9dRnhymywAi";

function both(message: Buffer | string, expected: boolean, what: string): void {
  const m = typeof message === "string" ? Buffer.from(message, "latin1") : message;
  for (const d of ["outgoing", "incoming"] as const) {
    assert.equal(isEncrypted(m, d), expected, `${what} (${d}): ${JSON.stringify(checkEncrypted(m, d))}`);
  }
}

/** The valid message with `search` replaced (every one with `all`), checked both ways. */
function edited(
  search: string | RegExp,
  replacement: string,
  expected: boolean,
  what: string,
  all = false,
): void {
  both(swap(VALID, search, replacement, all), expected, what);
}

/** The valid message as text, for string surgery. */
const VALID = pgpMime(ARMOR).toString("latin1");

/** `text` with `search` replaced; fails the test if nothing matched. */
function swap(text: string, search: string | RegExp, replacement: string, all = false): string {
  const out =
    all && typeof search === "string"
      ? text.replaceAll(search, replacement)
      : text.replace(search, replacement);
  assert.notEqual(out, text, `no match for ${String(search)}`);
  return out;
}

test("baseline: a valid PGP/MIME message", () => {
  both(VALID, true, "valid");
  assert.deepEqual(checkEncrypted(Buffer.from(VALID, "latin1"), "outgoing"), { ok: true, tags: [1, 18] });
});

test("case variations of types and header names are accepted", () => {
  both(pgpMime(ARMOR, { topType: "MULTIPART/Encrypted" }), true, "top type");
  both(pgpMime(ARMOR, { part1Type: "Application/PGP-Encrypted" }), true, "part 1 type");
  both(pgpMime(ARMOR, { part2Type: "APPLICATION/octet-stream" }), true, "part 2 type");
  edited("Content-Type:", "content-TYPE:", true, "header names", true);
  edited("boundary=", "BOUNDARY=", true, "parameter name");
});

test("the PGP/MIME structure as text inside a text/plain body is not encrypted", () => {
  const [, rest] = VALID.split("MIME-Version: 1.0\r\n");
  const text = `From: a@c.example\r\nTo: b@d.example\r\nContent-Type: text/plain\r\n\r\nMIME-Version: 1.0\r\n${rest}`;
  both(text, false, "text part");
  edited(
    /Content-Type: multipart\/encrypted/,
    "Content-Type: multipart/mixed",
    false,
    "multipart/mixed with the same parts",
  );
});

test("exactly two parts", () => {
  both(pgpMime(ARMOR, { extraParts: ["Content-Type: text/plain\r\n\r\nhello\r\n"] }), false, "3 parts");
  const onePart = swap(
    VALID,
    /--YFrteb74qSXmggbOxZL9dRnhymywAi\r\nContent-Description: OpenPGP[\s\S]*?(?=--YFrteb74qSXmggbOxZL9dRnhymywAi--)/,
    "",
  );
  assert.ok(onePart.length < VALID.length - 300);
  both(onePart, false, "1 part");
  const noParts = VALID.slice(0, VALID.indexOf(`--${B}`));
  both(noParts, false, "no parts");
});

test("nested multiparts are refused", () => {
  const inner = `Content-Type: multipart/mixed; boundary="inner"\r\n\r\n--inner\r\nContent-Type: application/octet-stream\r\n\r\n${ARMOR}\r\n--inner--\r\n`;
  const nested = swap(
    VALID,
    /(--YFrteb74qSXmggbOxZL9dRnhymywAi\r\nContent-Description: OpenPGP[\s\S]*?)(?=--YFrteb74qSXmggbOxZL9dRnhymywAi--)/,
    `--${B}\r\n${inner}\r\n`,
  );
  both(nested, false, "multipart as part 2");
  both(pgpMime(ARMOR, { part1Type: 'multipart/mixed; boundary="x"' }), false, "multipart as part 1");
});

test("part 1 must be exactly Version: 1", () => {
  both(pgpMime(ARMOR, { part1Body: "Version: 2" }), false, "Version: 2");
  both(pgpMime(ARMOR, { part1Body: "Version: 1\r\nhello" }), false, "extra text");
  both(pgpMime(ARMOR, { part1Body: "version: 1" }), false, "lower case");
  both(pgpMime(ARMOR, { part1Body: "  Version: 1 \r\n\r\n" }), true, "surrounding whitespace");
  both(pgpMime(ARMOR, { part1Type: "text/plain" }), false, "part 1 text/plain");
  both(pgpMime(ARMOR, { part2Type: "text/plain" }), false, "part 2 text/plain");
  both(pgpMime(ARMOR, { part2Type: "application/pgp-encrypted" }), false, "part 2 pgp-encrypted");
});

test("Content-Transfer-Encoding of the parts is undone first", () => {
  const b64 = swap(
    VALID,
    "Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1",
    "Content-Type: application/pgp-encrypted\r\nContent-Transfer-Encoding: base64\r\n\r\nVmVyc2lvbjogMQ==",
  );
  both(b64, true, "base64 part 1");
  const armorB64 = Buffer.from(crlf(ARMOR))
    .toString("base64")
    .replace(/(.{76})/g, "$1\r\n");
  edited(
    /(filename="encrypted.asc";\r\n)[\s\S]*?(?=\r\n--YFrteb74qSXmggbOxZL9dRnhymywAi--)/,
    `$1Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n\r\n${armorB64}\r\n`,
    true,
    "base64 part 2",
  );
  edited(
    "Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1",
    "Content-Type: application/pgp-encrypted\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nVersion=3A 1=\r\n",
    true,
    "quoted-printable part 1",
  );
  edited(
    "Content-Type: application/pgp-encrypted\r\n",
    "Content-Type: application/pgp-encrypted\r\nContent-Transfer-Encoding: x-uuencode\r\n",
    false,
    "unknown encoding",
  );
  const badB64 = swap(b64, "VmVyc2lvbjogMQ==", "VmVyc2lvbjogMQ==!");
  both(badB64, false, "invalid base64");
});

test("duplicated headers and parameters are ambiguous", () => {
  edited(
    "MIME-Version: 1.0\r\n",
    "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n",
    false,
    "text/plain first",
  );
  edited("\r\n\r\n\r\n--", "\r\nContent-Type: text/plain\r\n\r\n\r\n--", false, "text/plain second");
  edited(
    "Content-Type: application/pgp-encrypted\r\n",
    "Content-Type: application/pgp-encrypted\r\nContent-Type: text/plain\r\n",
    false,
    "part 1",
  );
  edited(
    "Content-Disposition:",
    "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition:",
    false,
    "part 2 encodings",
  );
  edited(`boundary="${B}"`, `boundary="${B}"; boundary="other"`, false, "boundary twice");
  edited(`boundary="${B}"`, `boundary="${B}"; boundary*0="other"`, false, "boundary and boundary*0");
});

test("boundaries are found only as whole delimiter lines", () => {
  const preamble = swap(
    VALID,
    "\r\n\r\n\r\n--",
    `\r\n\r\nThis is an OpenPGP/MIME encrypted message.\r\n--${B}x\r\nContent-Type: text/plain\r\n\r\n--`,
  );
  // Refused: Delta Chat's parser (mailparse) and Dovecot take "--boundaryx" as a delimiter.
  both(preamble, false, "look-alike delimiter in the preamble");
  edited(
    "Content-Description: PGP/MIME version identification",
    `Content-Description: see --${B} here`,
    true,
    "boundary inside a header value",
  );
  const inBody = pgpMime(ARMOR, { part1Body: `Version: 1\r\n --${B}` });
  both(inBody, false, "indented look-alike stays in the body");
  edited(`--${B}\r\n`, `--${B} \t\r\n`, true, "transport padding after the boundary", true);
  edited(
    `--${B}--\r\n`,
    `--${B}--\r\n--${B}\r\nContent-Type: text/plain\r\n\r\nsurprise\r\n`,
    true,
    "parts after the close delimiter are epilogue",
  );
  edited(`boundary="${B}"`, `boundary="${B.slice(0, 10)}"`, false, "shorter boundary given");
});

test("Content-Type parameter forms", () => {
  // Mail clients' parsers read these differently (policy/ambiguity.ts), so they are refused.
  edited("multipart/encrypted;", "multipart/encrypted (PGP/MIME);", false, "comment");
  edited(
    `boundary="${B}"`,
    `boundary*0="${B.slice(0, 10)}"; boundary*1="${B.slice(10)}"`,
    false,
    "RFC 2231 continuation",
  );
  edited(`boundary="${B}"`, "charset=utf-8", false, "no boundary");
});

test("line endings and malformed parts", () => {
  edited("\r\n", "\n", false, "bare LF (the armor needs CRLF, as in filtermail)", true);
  edited(
    "Content-Description: PGP/MIME version identification",
    "this line has no colon",
    false,
    "malformed part header",
  );
  edited(
    "-----END PGP MESSAGE-----\r\n\r\n",
    "-----END PGP MESSAGE-----\r\n",
    true,
    "armor directly before the delimiter",
  );
});
