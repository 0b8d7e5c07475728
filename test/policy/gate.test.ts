// The gate decisions with their exact reply codes and texts.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkIncoming,
  checkIpLiteral,
  checkMailFrom,
  checkOutgoing,
  checkSender,
} from "../../src/policy/gate.ts";
import { Gcra } from "../../src/policy/gcra.ts";
import { replyLine } from "../../src/policy/verdict.ts";
import { fixture } from "../support/mail.ts";
import { ALICE, armor, BOB, packet, pgpMime } from "./helpers.ts";

const ENCRYPTED = pgpMime(
  armor(Buffer.concat([packet(1, Buffer.alloc(50, 1)), packet(18, Buffer.alloc(200, 2))])),
);
const ENCRYPTED_VERSION = pgpMime(
  armor(Buffer.concat([packet(1, Buffer.alloc(50, 1)), packet(18, Buffer.alloc(200, 2))]), {
    headers: ["Version: GopenPGP 2.7.4"],
  }),
);

function plain(from: string, extra = ""): Buffer {
  return Buffer.from(`From: ${from}\r\nTo: ${BOB}\r\n${extra}Subject: hi\r\n\r\nhello\r\n`);
}

const NEED = { ok: false, code: 523, text: "Encryption Needed: Invalid Unencrypted Mail" };

test("outgoing: MAIL FROM needs exactly one @", () => {
  for (const bad of ["alice", "a@b@c.example", ""]) {
    const v = checkOutgoing({ mailFrom: bad, recipients: [BOB], message: ENCRYPTED });
    assert.deepEqual(v, { ok: false, code: 500, text: `Invalid from address <${bad}>` });
    assert.deepEqual(checkMailFrom(bad), v);
  }
  assert.deepEqual(checkMailFrom(ALICE), { ok: true });
});

test("outgoing: From header rules", () => {
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: ENCRYPTED }), { ok: true });
  const upper = checkOutgoing({ mailFrom: "Alice@C.Example", recipients: [BOB], message: ENCRYPTED });
  assert.deepEqual(upper, { ok: true }, "case-insensitive");
  const forged = checkOutgoing({ mailFrom: "mallory@c.example", recipients: [BOB], message: ENCRYPTED });
  assert.deepEqual(forged, {
    ok: false,
    code: 500,
    text: "Invalid FROM <alice@c.example> for <mallory@c.example>",
  });

  const missing = Buffer.from(`To: ${BOB}\r\n\r\nhello\r\n`);
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: missing }), {
    ok: false,
    code: 500,
    text: "Invalid FROM header: ",
  });
  const garbage = checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: plain("not an address") });
  assert.deepEqual(garbage, { ok: false, code: 500, text: "Invalid FROM header: not an address" });
  const twoMailboxes = checkOutgoing({
    mailFrom: ALICE,
    recipients: [BOB],
    message: plain(`${ALICE}, ${BOB}`),
  });
  assert.equal(twoMailboxes.ok ? 0 : twoMailboxes.code, 500);
  const twoFields = plain(ALICE, `From: ${ALICE}\r\n`);
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: twoFields }), {
    ok: false,
    code: 500,
    text: `Invalid FROM header: ${ALICE}`,
  });
  const long = checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: plain("x".repeat(1000)) });
  assert.ok(!long.ok && long.text.length < 250, "echoed header text is bounded");
});

test("outgoing: parse failure", () => {
  const v = checkOutgoing({
    mailFrom: ALICE,
    recipients: [BOB],
    message: Buffer.from("garbage line\r\n\r\n"),
  });
  assert.deepEqual(v, { ok: false, code: 500, text: "Failed to parse message: malformed header line 1" });
  assert.equal(replyLine(v), "500 Failed to parse message: malformed header line 1");
});

test("a bare CR in a header section is a malformed line: readers disagree on whether it ends one", () => {
  const packets = armor(Buffer.concat([packet(1, Buffer.alloc(50, 1)), packet(18, Buffer.alloc(200, 2))]));
  const bad = (m: Buffer) => checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: m });
  assert.deepEqual(bad(ENCRYPTED), { ok: true });
  // "X-A: a<CR>garbage": one field here, a field and a non-field line for Python's email package
  for (const [extra, line] of [
    ["X-A: a\rgarbage", 4],
    ["X-A: a\rContent-Type: text/plain", 4],
    ["X-A: a\r\n\tfolded\rmore", 4],
  ] as const) {
    assert.deepEqual(
      bad(pgpMime(packets, { extraTopHeaders: [extra] })),
      { ok: false, code: 500, text: `Failed to parse message: malformed header line ${line}` },
      JSON.stringify(extra),
    );
  }
  // in a part's header section the part is malformed, so not an OpenPGP/MIME message
  const part = bad(pgpMime(packets, { part1Type: "application/pgp-encrypted\rX-B: c" }));
  assert.equal(part.ok ? 0 : part.code, 523);
  // a CR in the body is not the header section's business
  assert.equal(bad(pgpMime(packets, { part1Body: "Version: 1\r" })).ok, true);
});

test("outgoing: unencrypted is 523, Version armor header is refused", () => {
  const v = checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: plain(ALICE) });
  assert.deepEqual(v, NEED);
  assert.equal(replyLine(v), "523 Encryption Needed: Invalid Unencrypted Mail");
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: ENCRYPTED_VERSION }), NEED);
  // local recipients too (E2EE between local addresses since chatmail 1.6)
  assert.deepEqual(
    checkOutgoing({ mailFrom: ALICE, recipients: ["carol@c.example"], message: plain(ALICE) }),
    NEED,
  );
});

test("outgoing: secure-join request and self-sent setup message", () => {
  const sj = fixture("securejoin-vc", ALICE, BOB);
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: sj }), { ok: true });
  const fake = fixture("securejoin-vc-fake", ALICE, BOB);
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: fake }), NEED);
  const asm = fixture("asm", ALICE, ALICE);
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: ["ALICE@c.example"], message: asm }), {
    ok: true,
  });
  const otherSubject = Buffer.from(
    asm.toString("latin1").replace("Autocrypt Setup Message", "Hello"),
    "latin1",
  );
  assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [ALICE], message: otherSubject }), NEED);
});

test("incoming: accepted kinds and what the caller must still check", () => {
  const enforce = () => true;
  const enc = checkIncoming({ mailFrom: ALICE, recipients: [BOB], message: ENCRYPTED, enforceE2EE: enforce });
  assert.deepEqual(enc, {
    ok: true,
    envelopeFrom: ALICE,
    from: ALICE,
    fromDomain: "c.example",
    needs: "dkim",
  });
  const proton = checkIncoming({
    mailFrom: ALICE,
    recipients: [BOB],
    message: ENCRYPTED_VERSION,
    enforceE2EE: enforce,
  });
  assert.equal(proton.ok, true, "armor Version header allowed incoming");

  const literalFrom = pgpMime(armor(Buffer.concat([packet(3, [1, 2]), packet(18, [3])])), {
    from: "x@[192.0.2.7]",
  });
  const lit = checkIncoming({
    mailFrom: "x@[192.0.2.7]",
    recipients: [BOB],
    message: literalFrom,
    enforceE2EE: enforce,
  });
  assert.deepEqual(lit, {
    ok: true,
    envelopeFrom: "x@[192.0.2.7]",
    from: "x@[192.0.2.7]",
    fromDomain: "[192.0.2.7]",
    needs: "ip-literal",
  });
});

test("incoming: envelope/From mismatch resets the envelope sender, no reject", () => {
  const v = checkIncoming({
    mailFrom: "srs0=x@fwd.example",
    recipients: [BOB],
    message: ENCRYPTED,
    enforceE2EE: () => true,
  });
  assert.equal(v.ok, true);
  assert.equal(v.envelopeFrom, "");
  assert.equal(v.from, ALICE);
  const same = checkIncoming({
    mailFrom: "ALICE@c.example",
    recipients: [BOB],
    message: ENCRYPTED,
    enforceE2EE: () => true,
  });
  assert.equal(same.envelopeFrom, "ALICE@c.example");
});

test("incoming: cleartext depends on every recipient's E2EE flag", () => {
  const message = plain(ALICE);
  const flags: Record<string, boolean> = { "old@d.example": false, "new@d.example": true };
  const enforceE2EE = (r: string) => flags[r] ?? true;
  const oldOnly = checkIncoming({ mailFrom: ALICE, recipients: ["old@d.example"], message, enforceE2EE });
  assert.equal(oldOnly.ok, true);
  const mixed = checkIncoming({
    mailFrom: ALICE,
    recipients: ["old@d.example", "new@d.example"],
    message,
    enforceE2EE,
  });
  assert.equal(mixed.ok, false);
  assert.equal(replyLine(mixed), "523 Encryption Needed: Invalid Unencrypted Mail");
});

test("incoming: From errors", () => {
  const none = checkIncoming({
    mailFrom: ALICE,
    recipients: [BOB],
    message: Buffer.from("To: b@d.example\r\n\r\nx"),
    enforceE2EE: () => false,
  });
  assert.equal(replyLine(none), "500 Invalid FROM header: ");
  const bad = checkIncoming({
    mailFrom: ALICE,
    recipients: [BOB],
    message: Buffer.from("\x01 x\r\n"),
    enforceE2EE: () => false,
  });
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.text.startsWith("Failed to parse message"));
});

test("incoming: mailer-daemon reports need all three conditions", () => {
  const base = fixture("mailer-daemon", ALICE, BOB).toString("latin1");
  const run = (text: string) =>
    checkIncoming({
      mailFrom: "",
      recipients: [BOB],
      message: Buffer.from(text, "latin1"),
      enforceE2EE: () => true,
    }).ok;
  assert.equal(run(base), true);
  assert.equal(run(base.replace("Auto-Submitted: auto-replied \r\n", "")), false, "no Auto-Submitted");
  assert.equal(
    run(base.replace("Auto-Submitted: auto-replied ", "Auto-Submitted: ")),
    false,
    "empty Auto-Submitted",
  );
  assert.equal(
    run(base.replace("<MAILER-DAEMON@example.org>", "<postmaster@example.org>")),
    false,
    "other sender",
  );
  assert.equal(run(base.replace("multipart/report", "multipart/mixed")), false, "not a report");
});

test("checkIpLiteral", () => {
  assert.deepEqual(checkIpLiteral("[192.0.2.7]", "192.0.2.7"), { ok: true });
  assert.deepEqual(checkIpLiteral("192.0.2.7", "::ffff:192.0.2.7"), { ok: true });
  assert.deepEqual(checkIpLiteral("[IPv6:2001:DB8::1]", "2001:db8:0:0:0:0:0:1"), { ok: true });
  assert.deepEqual(checkIpLiteral("[192.0.2.7]", "192.0.2.8"), {
    ok: false,
    code: 500,
    text: "Invalid FROM domain literal: 192.0.2.7 does not match origin IP 192.0.2.8",
  });
  assert.equal(
    replyLine(checkIpLiteral("[ipv6:2001:db8::1]", "::ffff:10.0.0.1")),
    "500 Invalid FROM domain literal: 2001:db8::1 does not match origin IP 10.0.0.1",
  );
  assert.equal(checkIpLiteral("[example.org]", "192.0.2.7").ok, false);
});

test("checkSender: address check, then the rate limit with the reply text", () => {
  let now = 0;
  const limiter = new Gcra({ perMinute: 60, burst: 2, now: () => now });
  const wall = () => Date.UTC(2026, 0, 1);
  assert.deepEqual(checkSender("bad", limiter, wall), {
    ok: false,
    code: 500,
    text: "Invalid from address <bad>",
  });
  assert.deepEqual(checkSender(ALICE, limiter, wall), { ok: true });
  assert.deepEqual(checkSender("Alice@C.example", limiter, wall), { ok: true }, "same key, any case");
  const v = checkSender(ALICE, limiter, wall);
  assert.deepEqual(v, {
    ok: false,
    code: 450,
    text: "4.7.1: Too much mail from <alice@c.example>, rate-limited until 2026-01-01T00:00:01.000Z",
  });
  now = 1000;
  assert.deepEqual(checkSender(ALICE, limiter, wall), { ok: true });
});
