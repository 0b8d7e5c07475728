import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { relaxedHeader, selectSignedFields, simpleBodyHash } from "../../src/dkim/canon.ts";
import { parseHeaderBlock, toCrlf } from "../../src/dkim/message.ts";

const sha = (s: string) => createHash("sha256").update(s, "latin1").digest("base64");

test("toCrlf turns bare LF into CRLF and leaves CRLF alone", () => {
  const crlf = Buffer.from("a\r\nb\r\n");
  assert.equal(toCrlf(crlf), crlf, "unchanged input is returned as is");
  assert.equal(toCrlf(Buffer.from("a\nb\r\nc\n\n")).toString(), "a\r\nb\r\nc\r\n\r\n");
  assert.equal(toCrlf(Buffer.from("\nx")).toString(), "\r\nx");
  assert.equal(toCrlf(Buffer.from("")).toString(), "");
});

test("parseHeaderBlock splits fields, keeps folds, finds the body", () => {
  const msg = Buffer.from("From: a@b.test\r\nSubject: one\r\n two\r\nX-Empty:\r\n\r\nbody\r\n");
  const r = parseHeaderBlock(msg);
  assert.ok(r.ok);
  assert.deepEqual(
    r.fields.map((f) => [f.name, f.key, f.raw]),
    [
      ["From", "from", "From: a@b.test"],
      ["Subject", "subject", "Subject: one\r\n two"],
      ["X-Empty", "x-empty", "X-Empty:"],
    ],
  );
  assert.equal(msg.subarray(r.bodyOffset).toString(), "body\r\n");
});

test("parseHeaderBlock: a message without an empty line is all header", () => {
  const msg = Buffer.from("From: a@b.test\r\nTo: c@d.test\r\n");
  const r = parseHeaderBlock(msg);
  assert.ok(r.ok);
  assert.equal(r.fields.length, 2);
  assert.equal(r.bodyOffset, msg.length);
});

test("parseHeaderBlock rejects malformed header sections", () => {
  for (const bad of [
    "",
    "\r\nbody",
    " folded first\r\nFrom: a@b.test\r\n\r\n",
    "From: a@b.test\r\nno colon here\r\n\r\n",
    ": no name\r\n\r\n",
    "Bad Name: x\r\n\r\n",
  ]) {
    const r = parseHeaderBlock(Buffer.from(bad));
    assert.equal(r.ok, false, JSON.stringify(bad));
  }
});

test("RFC 6376 §3.4.6 example: relaxed header canonicalization", () => {
  const msg = Buffer.from("A: X \r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n");
  const r = parseHeaderBlock(msg);
  assert.ok(r.ok);
  assert.equal(r.fields.map((f) => relaxedHeader(f.raw)).join(""), "a:X\r\nb:Y Z\r\n");
  // Simple body: only the trailing empty lines go.
  assert.equal(simpleBodyHash(msg, r.bodyOffset), sha(" C \r\nD \t E\r\n"));
});

test("simple body: empty body and missing final CRLF both end in one CRLF", () => {
  const empty = sha("\r\n");
  assert.equal(empty, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
  assert.equal(simpleBodyHash(Buffer.from("H: v\r\n\r\n"), 8), empty);
  assert.equal(simpleBodyHash(Buffer.from("H: v\r\n\r\n\r\n\r\n"), 8), empty);
  assert.equal(simpleBodyHash(Buffer.from("H: v\r\n\r\nabc"), 8), sha("abc\r\n"));
  assert.equal(simpleBodyHash(Buffer.from("H: v\r\n\r\nabc\r\n\r\n"), 8), sha("abc\r\n"));
});

test("selectSignedFields takes instances bottom-up and skips names without one left", () => {
  const r = parseHeaderBlock(Buffer.from("Received: 1\r\nFrom: f\r\nReceived: 2\r\n\r\n"));
  assert.ok(r.ok);
  const picked = selectSignedFields(r.fields, [
    "received",
    "From",
    "received",
    "received",
    "from",
    "subject",
  ]);
  assert.deepEqual(
    picked.map((f) => f.raw),
    ["Received: 2", "From: f", "Received: 1"],
  );
});
