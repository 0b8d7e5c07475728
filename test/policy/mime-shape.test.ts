// The byte-level MIME shape parser, header scanner and Content-Type parser.

import assert from "node:assert/strict";
import { test } from "node:test";
import { parseContentType } from "../../src/policy/content-type.ts";
import { firstHeader, headerValues, scanHeaders } from "../../src/policy/headers.ts";
import {
  decodedBody,
  MAX_HEADER_BYTES,
  MAX_PART_HEADER_BYTES,
  MAX_PARTS,
  type MimeShape,
  parseMimeShape,
} from "../../src/policy/mime-shape.ts";

function shape(text: string): MimeShape {
  const r = parseMimeShape(Buffer.from(text, "latin1"));
  assert.ok(r.ok, JSON.stringify(r));
  return r.shape;
}

test("headers: folding, case, offsets, separator", () => {
  const text = "Subject: a\r\n  folded\r\n\tline\r\nX-A:b\r\nx-a: c\r\n\r\nbody\r\n";
  const h = scanHeaders(Buffer.from(text));
  assert.equal(h.fields.length, 3);
  assert.equal(firstHeader(h, "SUBJECT"), "a  folded\tline");
  assert.deepEqual(headerValues(h, "X-A"), ["b", "c"]);
  assert.equal(h.hasSeparator, true);
  assert.equal(text.slice(h.bodyStart), "body\r\n");
  const subject = h.fields[0];
  assert.ok(subject);
  assert.equal(text.slice(subject.start, subject.end), "Subject: a\r\n  folded\r\n\tline\r\n");
  assert.equal(subject.eol, "\r\n");
});

test("headers: bare LF, no body, no final line ending", () => {
  const lf = scanHeaders(Buffer.from("A: 1\nB: 2\n\nbody"));
  assert.equal(lf.fields.length, 2);
  assert.equal(lf.fields[0]?.eol, "\n");
  assert.equal(lf.bodyStart, 11);
  const noBody = scanHeaders(Buffer.from("A: 1\r\nB: 2"));
  assert.equal(noBody.hasSeparator, false);
  assert.equal(noBody.fields[1]?.eol, "");
  assert.equal(noBody.bodyStart, 10);
});

test("headers: malformed lines are kept and counted", () => {
  const h = scanHeaders(
    Buffer.from(" leading continuation\r\nno colon here\r\nA : obsolete space\r\n: empty name\r\n\r\n"),
  );
  assert.equal(h.malformed, 3);
  assert.equal(firstHeader(h, "a"), "obsolete space");
});

test("parseMimeShape: errors", () => {
  assert.deepEqual(parseMimeShape(Buffer.alloc(0)), { ok: false, error: "empty message" });
  const bad = parseMimeShape(Buffer.from("From: a@b.c\r\nFrom a@b.c Mon Jan 1\r\n\r\nx"));
  assert.equal(bad.ok, false);
  const cont = parseMimeShape(Buffer.from(" x: y\r\n\r\n"));
  assert.equal(cont.ok, false);
  // a message without headers is not an error (the From check refuses it)
  assert.equal(parseMimeShape(Buffer.from("\r\nbody")).ok, true);
});

test("parseMimeShape: non-multipart and default type", () => {
  const s = shape("From: a@b.c\r\n\r\nhello");
  assert.equal(s.contentType.mime, "text/plain");
  assert.equal(s.parts, null);
  assert.equal(s.body.toString(), "hello");
});

const MULTI = [
  "Content-Type: multipart/mixed; boundary=b",
  "",
  "preamble --b",
  "--b",
  "Content-Type: text/plain",
  "",
  "one",
  "--bb",
  "--b ",
  "",
  "two",
  "",
  "--b--",
  "epilogue",
  "--b",
  "three",
].join("\r\n");

test("parseMimeShape: parts and bodies (RFC 2046 §5.1.1)", () => {
  const s = shape(MULTI);
  assert.ok(s.parts);
  assert.equal(s.parts.length, 2);
  assert.equal(s.closed, true);
  assert.equal(s.parts[0]?.contentType.mime, "text/plain");
  assert.equal(s.parts[0]?.body.toString(), "one\r\n--bb", "the CRLF before the delimiter belongs to it");
  assert.equal(s.parts[1]?.headers.fields.length, 0);
  assert.equal(s.parts[1]?.body.toString(), "two\r\n");
  assert.equal(s.parts[1]?.contentType.mime, "text/plain", "default type");
});

test("parseMimeShape: bare LF multipart, missing close delimiter", () => {
  const s = shape(MULTI.replaceAll("\r\n", "\n").replace("--b--\nepilogue\n--b\nthree", "--b\nX: y\n\nlast"));
  assert.ok(s.parts);
  assert.equal(s.parts.length, 3);
  assert.equal(s.closed, false);
  assert.equal(s.parts[0]?.body.toString(), "one\n--bb");
  assert.equal(s.parts[2]?.body.toString(), "last");
});

test("parseMimeShape: delimiter right at the start of the body, empty parts", () => {
  const s = shape("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\n--b--");
  assert.equal(s.parts?.length, 2);
  assert.equal(s.parts?.[0]?.body.length, 0);
  assert.equal(s.parts?.[1]?.body.length, 0);
});

test("content type: parameters", () => {
  const ct = parseContentType(
    ' Multipart/Encrypted ; protocol="application/pgp-encrypted"; boundary="a\\"b;c" ',
  );
  assert.equal(ct.mime, "multipart/encrypted");
  assert.equal(ct.params.protocol, "application/pgp-encrypted");
  assert.equal(ct.params.boundary, 'a"b;c');
  assert.equal(ct.duplicateParams, false);
  assert.equal(
    parseContentType("text/plain (a comment; with=stuff) ; charset=utf-8").params.charset,
    "utf-8",
  );
  assert.equal(parseContentType("text/plain; name*=utf-8''%E2%82%AC.txt").params.name, "€.txt");
  const cont = parseContentType('text/plain; name*0="a"; name*1*=%41; name*2=c');
  assert.equal(cont.params.name, "aAc");
  assert.equal(parseContentType("text/plain; constructor=x").params.constructor, "x");
  assert.equal(parseContentType("text/plain; ;; flag; a=1").params.a, "1");
});

test("content type: invalid and ambiguous values", () => {
  assert.equal(parseContentType("").mime, "");
  assert.equal(parseContentType("multipart").mime, "");
  assert.equal(parseContentType("multi part/mixed").mime, "");
  assert.equal(parseContentType("text/plain; a=1; A=2").duplicateParams, true);
  assert.equal(parseContentType("text/plain; a=1; a*=utf-8''2").duplicateParams, true);
  assert.equal(parseContentType("text/plain; a*0=1; a*0=2").duplicateParams, true);
  assert.equal(parseContentType('text/plain; a="unterminated').params.a, "unterminated");
});

test("decodedBody: transfer encodings", () => {
  const part = (cte: string, body: string) =>
    shape(
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${body}\r\n--b--\r\n`,
    ).parts?.[0];
  const dec = (cte: string, body: string) => {
    const p = part(cte, body);
    assert.ok(p);
    return decodedBody(p)?.toString("latin1") ?? null;
  };
  assert.equal(dec("7bit", "abc"), "abc");
  assert.equal(dec("Base64", "aGVs\r\nbG8="), "hello");
  assert.equal(dec("base64", "aGVs*bG8="), null);
  assert.equal(dec("quoted-printable", "a=3Db=\r\nc =\r\nd=ZZ"), "a=bc d=ZZ");
  assert.equal(dec("x-unknown", "abc"), null);
});

test("limits: header section size, part header size, number of parts", () => {
  const bigTop = Buffer.from(`From: a@b.c\r\n${"X: y\r\n".repeat(MAX_HEADER_BYTES / 6 + 1)}\r\nhi`);
  assert.deepEqual(parseMimeShape(bigTop), { ok: false, error: "header section larger than 256 KiB" });
  const longLine = Buffer.from(`From: a@b.c\r\nX: ${"y".repeat(MAX_HEADER_BYTES)}\r\n\r\nhi`);
  assert.equal(parseMimeShape(longLine).ok, false);

  const bigPart = shape(
    `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n${"X: y\r\n".repeat(MAX_PART_HEADER_BYTES / 6 + 1)}\r\nbody\r\n--b--\r\n`,
  );
  assert.equal(bigPart.parts?.[0]?.malformed, true);
  assert.equal(bigPart.parts?.[0]?.headers.truncated, true);

  const many = shape(
    `Content-Type: multipart/mixed; boundary=b\r\n\r\n${"--b\r\n\r\nx\r\n".repeat(MAX_PARTS + 5)}--b--\r\n`,
  );
  assert.equal(many.parts?.length, MAX_PARTS);
  assert.equal(many.tooManyParts, true);
  assert.equal(many.closed, false);
  const exact = shape(
    `Content-Type: multipart/mixed; boundary=b\r\n\r\n${"--b\r\n\r\nx\r\n".repeat(MAX_PARTS)}--b--\r\n`,
  );
  assert.equal(exact.parts?.length, MAX_PARTS);
  assert.equal(exact.tooManyParts, false);
});

test("headers: scan options stop early", () => {
  const text = Buffer.from("A: 1\r\nbad line\r\nB: 2\r\n\r\nbody");
  const stop = scanHeaders(text, 0, text.length, { stopAtMalformed: true });
  assert.equal(stop.truncated, true);
  assert.equal(stop.fields.length, 2);
  const all = scanHeaders(text);
  assert.equal(all.truncated, false);
  assert.equal(all.fields.length, 3);
  const small = scanHeaders(text, 0, text.length, { maxBytes: 8 });
  assert.equal(small.truncated, true);
  assert.equal(small.fields.length, 1);
});
