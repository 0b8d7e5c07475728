// BODY[section] addressing, <partial>, SEARCH helpers and the IMAP string encoder.

import assert from "node:assert/strict";
import { test } from "node:test";
import { bodyText, decodeQuotedPrintable, headerValues } from "../../../src/imap/mime/header.ts";
import { dcNstring, dcStringForHumans, nstring } from "../../../src/imap/mime/imapstring.ts";
import { parseMessage } from "../../../src/imap/mime/parse.ts";
import { findPart, partial } from "../../../src/imap/mime/section.ts";
import { crlf, sec } from "./helpers.ts";

const MIXED = crlf(
  "From: a@example.org",
  "Subject: =?utf-8?q?caf=C3=A9?= menu",
  "X-Folded: one",
  "\ttwo",
  "subject: second",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain; charset=iso-8859-1",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Gr=FC=DFe aus K=F6ln=",
  "!",
  "--b",
  "Content-Type: message/rfc822",
  "",
  "Subject: inner",
  "Content-Type: multipart/alternative; boundary=c",
  "",
  "--c",
  "Content-Type: text/html; charset=utf-8",
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("<p>héllo</p>").toString("base64"),
  "--c",
  "Content-Type: image/png",
  "",
  "PNG",
  "--c--",
  "--b--",
);

test("part numbers walk multiparts and encapsulated messages", () => {
  const root = parseMessage(MIXED);
  assert.equal(findPart(root, []), root);
  assert.equal(findPart(root, [1]), root.children[0]);
  assert.equal(findPart(root, [2]), root.children[1]);
  assert.equal(findPart(root, [2, 1]), root.children[1].message?.children[0]);
  assert.equal(findPart(root, [2, 2]), root.children[1].message?.children[1]);
  // as in Dovecot, a trailing .1 on a part that is not multipart names the part itself
  assert.equal(findPart(root, [1, 1]), root.children[0]);
  assert.equal(findPart(root, [2, 1, 1]), root.children[1].message?.children[0]);
  for (const bad of [[0], [3], [1, 2], [1, 1, 1], [2, 3], [2, 1, 2], [-1], [1.5], [Number.NaN]]) {
    assert.equal(findPart(root, bad), null, `[${bad}]`);
  }
  assert.equal(sec(MIXED, { part: [3] }), "");
  assert.equal(sec(MIXED, { part: [2, 2] }), "PNG");
  assert.equal(
    sec(MIXED, { part: [2], text: "HEADER" }),
    "Subject: inner\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n",
  );
  assert.equal(
    sec(MIXED, { part: [2], text: "HEADER.FIELDS", fields: ["SUBJECT"] }),
    "Subject: inner\r\n\r\n",
  );
  assert.equal(sec(MIXED, { part: [2], text: "MIME" }), "Content-Type: message/rfc822\r\n\r\n");
  assert.ok(sec(MIXED, { part: [2], text: "TEXT" }).startsWith("--c\r\n"));
  assert.equal(sec(MIXED, { part: [], text: "MIME" }), "");
});

test("part 1 of a single-part message is its body", () => {
  const raw = crlf("Subject: x", "", "body");
  assert.equal(sec(raw, { part: [1] }), "body\r\n");
  assert.equal(sec(raw, { part: [1], text: "MIME" }), "Subject: x\r\n\r\n");
  assert.equal(sec(raw, { part: [2] }), "");
  assert.equal(sec(raw, { part: [1, 1] }), "");
});

test("HEADER.FIELDS keeps original lines and order, any case, folding included", () => {
  const fields = sec(MIXED, { part: [], text: "HEADER.FIELDS", fields: ["x-folded", "SUBJECT"] });
  assert.equal(
    fields,
    "Subject: =?utf-8?q?caf=C3=A9?= menu\r\nX-Folded: one\r\n\ttwo\r\nsubject: second\r\n\r\n",
  );
  const not = sec(MIXED, {
    part: [],
    text: "HEADER.FIELDS.NOT",
    fields: ["subject", "x-folded", "content-type"],
  });
  assert.equal(not, "From: a@example.org\r\nMIME-Version: 1.0\r\n\r\n");
  assert.equal(sec(MIXED, { part: [], text: "HEADER.FIELDS", fields: [] }), "\r\n");
});

test("the whole message is raw itself", () => {
  const root = parseMessage(MIXED);
  assert.equal(sec(MIXED, { part: [] }), MIXED.toString("latin1"));
  assert.equal(root.headerStart, 0);
  assert.equal(root.bodyEnd, MIXED.length);
});

test("partial clamps to the data", () => {
  const b = Buffer.from("0123456789");
  assert.equal(partial(b, 0, 3).toString(), "012");
  assert.equal(partial(b, 8, 5).toString(), "89");
  assert.equal(partial(b, 3).toString(), "3456789");
  assert.equal(partial(b, 10, 1).length, 0);
  assert.equal(partial(b, 99).length, 0);
  assert.equal(partial(b, 2, 0).length, 0);
  assert.equal(partial(b, -5, 2).toString(), "01");
});

test("headerValues: case-insensitive, unfolded, optionally decoded", () => {
  const root = parseMessage(MIXED);
  assert.deepEqual(headerValues(MIXED, root, "SUBJECT"), ["=?utf-8?q?caf=C3=A9?= menu", "second"]);
  assert.deepEqual(headerValues(MIXED, root, "subject", { decode: true }), ["café menu", "second"]);
  assert.deepEqual(headerValues(MIXED, root, "x-folded"), ["one\ttwo"]);
  assert.deepEqual(headerValues(MIXED, root, "cc"), []);
  const utf8 = Buffer.from("Subject: Grüße\r\n\r\n");
  assert.deepEqual(headerValues(utf8, parseMessage(utf8), "subject"), ["Grüße"]);
});

test("bodyText decodes transfer encodings and charsets of every text part", () => {
  const text = bodyText(MIXED, parseMessage(MIXED));
  assert.equal(text, "Grüße aus Köln!\n<p>héllo</p>");
  const plain = crlf("Subject: x", "", "just text");
  assert.equal(bodyText(plain, parseMessage(plain)), "just text\r\n");
  const unknown = crlf("Content-Type: text/plain; charset=x-unknown-42", "", "abc");
  assert.equal(bodyText(unknown, parseMessage(unknown)), "abc\r\n");
  const binary = crlf("Content-Type: application/octet-stream", "", "abc");
  assert.equal(bodyText(binary, parseMessage(binary)), "");
});

test("quoted-printable: soft breaks, padding, broken escapes", () => {
  const qp = (s: string) => decodeQuotedPrintable(Buffer.from(s, "latin1")).toString("latin1");
  assert.equal(qp("a=3Db=\r\nc"), "a=bc");
  assert.equal(qp("trail  \r\nx"), "trail\r\nx");
  assert.equal(qp("keep=20\r\n"), "keep \r\n");
  assert.equal(qp("bad=zz=4"), "bad=zz=4");
  assert.equal(qp("soft = \t\nnext"), "soft next");
});

test("nstring: NIL, quoted with escapes, literal for 8-bit and line breaks", () => {
  assert.equal(nstring(null).toString(), "NIL");
  assert.equal(nstring("").toString(), '""');
  assert.equal(nstring('a "b" \\c').toString(), '"a \\"b\\" \\\\c"');
  assert.equal(nstring("é").toString("latin1"), "{2}\r\n\xc3\xa9");
  assert.equal(nstring("a\r\nb").toString(), "{4}\r\na\r\nb");
  assert.equal(nstring(Buffer.from([0x61, 0x00])).toString("latin1"), "{2}\r\na\0");
  assert.equal(nstring(Buffer.from("NIL")).toString(), '"NIL"');
});

test("Dovecot string rules: literal after four escapes, humans' subject", () => {
  assert.equal(dcNstring('""""'), '"\\"\\"\\"\\""');
  assert.equal(dcNstring('"""""'), '{5}\r\n"""""');
  assert.equal(dcStringForHumans("plain"), '"plain"');
  assert.equal(dcStringForHumans("  a \t b\n c  "), "{5}\r\na b c");
  assert.equal(dcStringForHumans("   "), '""');
  assert.equal(dcStringForHumans('say "hi"'), '{8}\r\nsay "hi"');
});
