import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { encryptedOfSize, fixture } from "../support/mail.ts";
import { inbox, startTestRelay, type TestRelay } from "../support/relay.ts";
import { sendFixture } from "../support/send.ts";
import { RawSmtp, submit } from "../support/smtp.ts";

describe("SMTP submission", () => {
  let r: TestRelay;
  let alice: string;
  let bob: string;

  before(async () => {
    r = await startTestRelay({ max_message_size: 200_000 });
    alice = r.newAddress();
    bob = r.newAddress();
    // bob logs in once so that his account exists
    const first = await sendFixture(r, "encrypted", bob, bob);
    assert.equal(first.ok, true, first.response);
  });
  after(() => r.close());

  test("the first login creates the account; an encrypted message is delivered", async () => {
    const sent = await sendFixture(r, "encrypted", alice, bob, { subject: "secret subject" });
    assert.equal(sent.ok, true, sent.response);
    assert.ok(await r.relay.parts.store.getAccount(alice));
    const got = await inbox(r, bob);
    const last = got.at(-1)!.toString();
    assert.match(last, /^Subject: \[\.\.\.\]\r$/m, "Subject is rewritten");
    assert.doesNotMatch(last, /secret subject/);
    assert.doesNotMatch(last, /^DKIM-Signature:/im, "DKIM-Signature is stripped at local delivery");
    assert.match(last, /BEGIN PGP MESSAGE/);
  });

  test("a wrong password is refused with 535", async () => {
    const sent = await sendFixture(r, "encrypted", alice, bob, { password: "not-the-password" });
    assert.equal(sent.ok, false);
    assert.equal(sent.code, 535);
  });

  test("MAIL FROM other than the login: 553", async () => {
    const sent = await sendFixture(r, "encrypted", bob, bob, { login: alice });
    assert.equal(sent.code, 553, sent.response);
  });

  test("From header other than MAIL FROM: 500 Invalid FROM", async () => {
    const sent = await sendFixture(r, "encrypted", alice, bob, { message: fixture("encrypted", bob, bob) });
    assert.equal(sent.code, 500);
    assert.match(sent.response, new RegExp(`Invalid FROM <${bob}> for <${alice}>`));
  });

  test("unencrypted mail: 523 with the text Delta Chat looks for", async () => {
    for (const name of ["plain", "fake-encrypted", "securejoin-vc-fake", "mdn"] as const) {
      const sent = await sendFixture(r, name, alice, bob);
      assert.equal(sent.code, 523, name);
      assert.match(sent.response, /^523 Encryption Needed: Invalid Unencrypted Mail/, name);
    }
  });

  test("a Secure-Join vc-request passes the gate", async () => {
    const sent = await sendFixture(r, "securejoin-vc", alice, bob);
    assert.equal(sent.ok, true, sent.response);
  });

  test("oversize: 552", async () => {
    const sent = await sendFixture(r, "encrypted", alice, bob, {
      message: encryptedOfSize(alice, bob, 300_000),
    });
    assert.equal(sent.code, 552, sent.response);
  });

  test("STARTTLS on the submission port, AUTH refused before TLS", async () => {
    const raw = await RawSmtp.connect(r.submissionPort);
    try {
      const ehlo = await raw.command("EHLO [127.0.0.1]");
      assert.match(ehlo, /STARTTLS/);
      const auth = await raw.command(
        `AUTH PLAIN ${Buffer.from(`\0${alice}\0${r.password}`).toString("base64")}`,
      );
      assert.match(auth, /^5\d\d /);
      await raw.starttls();
      const ehlo2 = await raw.command("EHLO [127.0.0.1]");
      assert.match(ehlo2, /AUTH PLAIN LOGIN/);
      assert.doesNotMatch(ehlo2, /STARTTLS/);
      assert.match(await raw.command("MAIL FROM:<x@y>"), /^530 /, "unauthenticated MAIL is refused");
      const ok = await raw.command(
        `AUTH PLAIN ${Buffer.from(`\0${alice}\0${r.password}`).toString("base64")}`,
      );
      assert.match(ok, /^235 /);
    } finally {
      raw.close();
    }
    const sent = await submit(
      r.submissionPort,
      alice,
      r.password,
      { from: alice, to: [bob] },
      fixture("encrypted", alice, bob),
      { secure: false },
    );
    assert.equal(sent.ok, true, sent.response);
  });

  test("an unknown local recipient gets a bounce, the known one the message", async () => {
    const ghost = `nobody123@${r.domain}`;
    const before = (await inbox(r, alice)).length;
    const sent = await sendFixture(r, "encrypted", alice, ghost, { rcpts: [ghost, bob] });
    assert.equal(sent.ok, true, sent.response);
    const mails = await inbox(r, alice);
    assert.equal(mails.length, before + 1);
    const dsn = mails.at(-1)!.toString();
    assert.match(dsn, new RegExp(`^From: .*<MAILER-DAEMON@${r.domain.replace(/\./g, "\\.")}>`, "m"));
    assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(dsn, /^In-Reply-To: <Mr\.UVyJWZmkCKM\.hGzNc6glBE_@c2\.testrun\.org>/m);
    assert.match(dsn, new RegExp(`Final-Recipient: rfc822; ${ghost}`));
    assert.equal(await r.relay.parts.store.getAccount(ghost), undefined);
  });
});

describe("SMTP submission rate limit", () => {
  let r: TestRelay;
  // The limiter's clock stands still unless the test moves it: a slow machine changes nothing.
  let now = Date.parse("2026-01-01T00:00:00Z");
  before(async () => {
    r = await startTestRelay(
      { max_user_send_per_minute: 60, max_user_send_burst_size: 3 },
      { sendClock: () => now },
    );
  });
  after(() => r.close());

  test("450 4.7.1 after the burst, one more per second after that", async () => {
    const a = r.newAddress();
    const send = () => sendFixture(r, "encrypted", a, a);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await send());
    assert.deepEqual(
      results.map((x) => x.code),
      [250, 250, 250, 450, 450],
      JSON.stringify(results),
    );
    assert.equal(
      results[3]!.response,
      `450 4.7.1: Too much mail from <${a}>, rate-limited until 2026-01-01T00:00:01.000Z`,
    );
    now += 1000;
    assert.deepEqual([(await send()).code, (await send()).code], [250, 450]);
    // another sender has its own burst
    const b = r.newAddress();
    const other = await sendFixture(r, "encrypted", b, b);
    assert.equal(other.code, 250);
  });
});
