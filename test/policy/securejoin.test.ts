// The secure-join plaintext exception accepts exactly one shape.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isSecureJoin } from "../../src/policy/securejoin.ts";

function sj(opts: { header?: string | null; top?: string; parts?: string[] } = {}): Buffer {
  const header = opts.header === undefined ? "vc-request" : opts.header;
  const parts = opts.parts ?? ["Content-Type: text/plain; charset=utf-8\r\n\r\nSecure-Join: vc-request\r\n"];
  const lines = [
    "From: <alice@c.example>",
    "To: <bob@d.example>",
    ...(header === null ? [] : [`Secure-Join: ${header}`]),
    "Secure-Join-Invitenumber: RANDOM-TOKEN",
    `Content-Type: ${opts.top ?? 'multipart/mixed; boundary="B"'}`,
    "",
  ];
  for (const p of parts) lines.push("--B", p);
  lines.push("--B--", "");
  return Buffer.from(lines.join("\r\n"));
}

test("accepted shapes", () => {
  assert.equal(isSecureJoin(sj()), true);
  assert.equal(isSecureJoin(sj({ header: "vg-request" })), true);
  assert.equal(
    isSecureJoin(
      sj({
        header: "vg-request",
        parts: ["Content-Type: text/plain\r\n\r\n\r\n  SECURE-JOIN: VG-REQUEST \r\n"],
      }),
    ),
    true,
  );
  assert.equal(isSecureJoin(sj({ parts: ["\r\nsecure-join: vc-request"] })), true, "default text/plain");
  const b64 =
    "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nU2VjdXJlLUpvaW46IHZjLXJlcXVlc3Q=\r\n";
  assert.equal(isSecureJoin(sj({ parts: [b64] })), true, "transfer encoding undone");
});

test("refused shapes", () => {
  const cases: [string, Buffer][] = [
    ["no header", sj({ header: null })],
    ["later protocol step", sj({ header: "vc-request-with-auth" })],
    ["header case", sj({ header: "VC-REQUEST" })],
    ["body does not match", sj({ parts: ["Content-Type: text/plain\r\n\r\nBuy now!\r\n"] })],
    [
      "body with extra text",
      sj({ parts: ["Content-Type: text/plain\r\n\r\nSecure-Join: vc-request\r\nhello\r\n"] }),
    ],
    ["two parts", sj({ parts: ["\r\nSecure-Join: vc-request", "\r\nSecure-Join: vc-request"] })],
    ["html part", sj({ parts: ["Content-Type: text/html\r\n\r\nSecure-Join: vc-request\r\n"] })],
    [
      "nested multipart",
      sj({
        parts: [
          'Content-Type: multipart/mixed; boundary="C"\r\n\r\n--C\r\n\r\nSecure-Join: vc-request\r\n--C--\r\n',
        ],
      }),
    ],
    ["not multipart", sj({ top: "text/plain", parts: [] })],
    [
      "duplicated part type",
      sj({
        parts: ["Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nSecure-Join: vc-request\r\n"],
      }),
    ],
  ];
  for (const [name, message] of cases) assert.equal(isSecureJoin(message), false, name);
  const flat = Buffer.from("From: a@c.example\r\nSecure-Join: vc-request\r\n\r\nSecure-Join: vc-request\r\n");
  assert.equal(isSecureJoin(flat), false, "plain text body");
});
