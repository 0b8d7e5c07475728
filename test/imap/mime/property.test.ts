// Properties over random and MIME-shaped input: nothing throws, offsets stay
// consistent, BODY[] is the raw message, and a real client parses what we send.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { bodyStructure } from "../../../src/imap/mime/bodystructure.ts";
import { envelope } from "../../../src/imap/mime/envelope.ts";
import { bodyText, headerValues } from "../../../src/imap/mime/header.ts";
import { type MimePart, parseMessage } from "../../../src/imap/mime/parse.ts";
import { type SectionSpec, sectionBytes } from "../../../src/imap/mime/section.ts";
import { clientCrossCheck } from "./helpers.ts";

const LINES = [
  "",
  "",
  "MIME-Version: 1.0",
  "Content-Type: multipart/mixed; boundary=b",
  'Content-Type: multipart/alternative; boundary="b2"',
  "Content-Type: multipart/digest; boundary=d",
  "Content-Type: multipart/mixed",
  "Content-Type: message/rfc822",
  "Content-Type: message/global",
  "Content-Type: text/plain; charset=iso-8859-1; format=flowed",
  "Content-Type: text",
  "Content-Type: ;x=y",
  "Content-Type: application/octet-stream; name*0*=utf-8''%E2%82; name*1*=%AC; name*3=x; a=\"q\\\"q",
  "Content-Transfer-Encoding: base64",
  "Content-Transfer-Encoding: quoted-printable",
  'Content-Disposition: attachment; filename="a b"; size=3',
  "Content-Language: en, (c) de-CH,",
  "Content-ID: <id@x>",
  "Content-Location: http://x/y",
  "Subject: =?utf-8?b?w6k=?= (x",
  'From: "A \\"B\\"" <a@b.example>, group: c@d, (x) e;, <@r1,@r2:f@g>',
  "To: undisclosed-recipients:;",
  "Cc: broken <no-domain>, @, <>, x@[1.2.3.4]",
  "Date: Thu, 15 Feb 2007 01:02:03 +0200",
  "Message-ID: <m@x>",
  "\tfolded continuation",
  " more",
  "--b",
  "--b--",
  "--b2",
  "--b2--",
  "--d",
  "--d--",
  "--bogus",
  "aGVsbG8gd29ybGQ=",
  "caf=C3=A9=",
  "no colon here",
];

const line = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...LINES) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);
const ending = fc.constantFrom("\r\n", "\r\n", "\n", "\r");

/** Messages assembled from MIME-ish lines with mixed line endings. */
const mimeish = fc
  .array(fc.tuple(line, ending), { maxLength: 80 })
  .map((lines) => Buffer.from(lines.map(([l, e]) => l + e).join(""), "utf8"));

const anyBytes = fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a));

function checkOffsets(part: MimePart, start: number, end: number): void {
  assert.ok(start <= part.headerStart && part.headerStart <= part.headerEnd, "header in range");
  assert.equal(part.headerEnd, part.bodyStart);
  assert.ok(part.bodyStart <= part.bodyEnd && part.bodyEnd <= end, "body in range");
  assert.ok(part.lines >= 0 && part.lines <= part.bodyEnd - part.bodyStart);
  for (const f of part.fields)
    assert.ok(part.headerStart <= f.start && f.start <= f.end && f.end <= part.headerEnd);
  let prev = part.bodyStart;
  for (const c of part.children) {
    checkOffsets(c, prev, part.bodyEnd);
    prev = c.bodyEnd;
  }
  if (part.message !== null) checkOffsets(part.message, part.bodyStart, part.bodyEnd);
  if (part.kind !== "multipart") assert.equal(part.children.length, 0);
  if (part.kind === "message") assert.ok(part.message !== null);
}

const SPECS: SectionSpec[] = [
  { part: [], text: "HEADER" },
  { part: [], text: "TEXT" },
  { part: [], text: "HEADER.FIELDS", fields: ["subject", "from"] },
  { part: [1] },
  { part: [1], text: "MIME" },
  { part: [1, 1] },
  { part: [2, 1], text: "HEADER" },
  { part: [1, 2, 1], text: "HEADER.FIELDS.NOT", fields: ["content-type"] },
];

function exercise(raw: Buffer): void {
  const root = parseMessage(raw);
  checkOffsets(root, 0, raw.length);
  assert.equal(root.headerStart, 0);
  assert.equal(root.bodyEnd, raw.length);
  assert.ok(sectionBytes(raw, root, { part: [] }).equals(raw));
  bodyStructure(root, true);
  bodyStructure(root, false);
  envelope(root, raw);
  for (const spec of SPECS) sectionBytes(raw, root, spec);
  headerValues(raw, root, "subject", { decode: true });
  bodyText(raw, root);
}

test("random bytes: nothing throws, BODY[] is the raw message", () => {
  fc.assert(fc.property(anyBytes, exercise), { numRuns: 400 });
});

test("MIME-shaped input: nothing throws, offsets nest and stay in order", () => {
  fc.assert(fc.property(mimeish, exercise), { numRuns: 1500 });
});

test("MIME-shaped input: a real client parses BODYSTRUCTURE and ENVELOPE, sizes match BODY[n]", async () => {
  await fc.assert(
    fc.asyncProperty(mimeish, async (raw) => {
      await clientCrossCheck(raw);
    }),
    { numRuns: 300 },
  );
});

test("a top-level message/rfc822 around a multipart: the client's part numbers match ours", async () => {
  const inner = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (const body of ["--b\r\n", "--b\r\n\r\nhello\r\n--b--\r\n", "--b\r\nX: y\r\n\r\n--b--\r\n"]) {
    const raw = Buffer.from(`Content-Type: message/rfc822\r\n\r\n${inner}${body}`);
    assert.ok((await clientCrossCheck(raw)) >= 3, JSON.stringify(body));
  }
});
