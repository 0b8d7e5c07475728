// Header rewrites: only top-level fields change, the body is byte-identical.

import assert from "node:assert/strict";
import { test } from "node:test";
import { scanHeaders } from "../../src/policy/headers.ts";
import { rewriteSubmitted, stripForLocalDelivery } from "../../src/policy/rewrite.ts";
import { fixture } from "../support/mail.ts";
import { ALICE, BOB } from "./helpers.ts";

function bodyOf(m: Buffer): Buffer {
  return m.subarray(scanHeaders(m).bodyStart);
}

const SUBMITTED = [
  "Received: from [192.0.2.55] (helo=laptop)",
  "\tby relay.example with ESMTPSA; Mon, 1 Jan 2026 00:00:00 +0000",
  "From: alice@c.example",
  "X-Originating-IP: [192.0.2.55]",
  "Subject: a very secret",
  " subject that is folded",
  "X-Mailer: Delta Chat 2.0",
  "User-Agent: Some/1.0",
  "user-agent: twice",
  "To: bob@d.example",
  "Content-Type: multipart/mixed; boundary=b",
  "",
  "--b",
  "Received: inside a part stays",
  "Subject: inside a part stays",
  "",
  "body bytes \u00ff\u0000 stay",
  "--b--",
  "",
].join("\r\n");

test("rewriteSubmitted: strips identifying fields, masks Subject, keeps the rest", () => {
  const input = Buffer.from(SUBMITTED, "latin1");
  const out = rewriteSubmitted(input);
  const expected = [
    "From: alice@c.example",
    "Subject: [...]",
    "To: bob@d.example",
    "Content-Type: multipart/mixed; boundary=b",
    "",
  ].join("\r\n");
  assert.equal(out.subarray(0, scanHeaders(out).bodyStart).toString("latin1"), `${expected}\r\n`);
  assert.ok(bodyOf(out).equals(bodyOf(input)), "body unchanged byte for byte");
  assert.match(out.toString("latin1"), /Received: inside a part stays/);
});

test("rewriteSubmitted: bare LF, several Subjects, no Subject, no body", () => {
  const lf = Buffer.from("Subject: one\nX-Mailer: x\nsubject:\n two\nFrom: a@b.c\n\nbody\n");
  assert.equal(rewriteSubmitted(lf).toString(), "Subject: [...]\nSubject: [...]\nFrom: a@b.c\n\nbody\n");
  const none = Buffer.from("From: a@b.c\r\n\r\nSubject: in the body\r\n");
  assert.equal(rewriteSubmitted(none), none, "nothing to change: same buffer");
  const headersOnly = Buffer.from("From: a@b.c\r\nSubject: last");
  assert.equal(rewriteSubmitted(headersOnly).toString(), "From: a@b.c\r\nSubject: [...]");
  const fx = fixture("encrypted", ALICE, BOB);
  const rewritten = rewriteSubmitted(fx);
  assert.ok(bodyOf(rewritten).equals(bodyOf(fx)));
  assert.match(rewritten.toString(), /^Subject: \[\.\.\.\]\r$/m);
});

test("stripForLocalDelivery", () => {
  const input = Buffer.from(
    [
      "DKIM-Signature: v=1; a=ed25519-sha256; d=c.example;",
      "\tb=abc",
      "Authentication-Results: mx.d.example; dkim=pass",
      "Received: from x",
      "From: alice@c.example",
      "Subject: keep",
      "",
      "DKIM-Signature: in the body",
      "",
    ].join("\r\n"),
  );
  const out = stripForLocalDelivery(input);
  assert.equal(
    out.toString(),
    "From: alice@c.example\r\nSubject: keep\r\n\r\nDKIM-Signature: in the body\r\n",
  );
});

test("a field behind a bare CR is not hidden from the rewrite (RFC 5322 §2.2: CR only in CRLF)", () => {
  // Python's email package, for one, reads "Received" and "Authentication-Results" here as fields.
  const input = Buffer.from(
    "X-A: a\rReceived: from [192.0.2.1]\r\nX-B: b\rAuthentication-Results: x; dkim=pass\r\n\r\nbody\rstays\r\n",
  );
  assert.equal(
    rewriteSubmitted(input).toString(),
    "X-A: a\r\nX-B: b\r\nAuthentication-Results: x; dkim=pass\r\n\r\nbody\rstays\r\n",
  );
  assert.equal(stripForLocalDelivery(input).toString(), "X-A: a\r\nX-B: b\r\n\r\nbody\rstays\r\n");
});

// The random-message property, checked against Python's email package, is in
// rewrite-oracle.test.ts.
