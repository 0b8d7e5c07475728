import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { type DkimKeyPair, dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { fixture } from "../support/mail.ts";
import { inbox, startTestRelay, type TestRelay } from "../support/relay.ts";
import { sendFixture } from "../support/send.ts";
import { RawSmtp } from "../support/smtp.ts";

/** Sends one message to the MX port over STARTTLS; returns the final reply. */
async function deliverMx(port: number, from: string, to: string[], message: Buffer): Promise<string> {
  const c = await RawSmtp.connect(port);
  try {
    await c.command("EHLO other.test");
    await c.starttls();
    await c.command("EHLO other.test");
    const mail = await c.command(`MAIL FROM:<${from}>`);
    if (!mail.startsWith("250")) return mail;
    for (const rcpt of to) {
      const r = await c.command(`RCPT TO:<${rcpt}>`);
      if (!r.startsWith("250")) return r;
    }
    const data = await c.command("DATA");
    if (!data.startsWith("354")) return data;
    const body = message.toString("latin1").replace(/^\./gm, "..");
    return await c.command(`${body}${body.endsWith("\r\n") ? "" : "\r\n"}.`);
  } finally {
    c.close();
  }
}

describe("SMTP MX (port 25)", () => {
  let r: TestRelay;
  let dns: DnsServer;
  let key: DkimKeyPair;
  let evilKey: DkimKeyPair;
  let bob: string;
  const sender = "sender123@other.test";
  const sign = (m: Buffer, domain = "other.test", k = key) =>
    signMessage(m, { domain, selector: "sel", privateKeyPem: k.privateKeyPem });

  before(async () => {
    [key, evilKey] = await Promise.all([generateDkimKey(), generateDkimKey()]);
    dns = await startDnsServer({
      "sel._domainkey.other.test": { TXT: [dkimTxtRecord(key.publicKeyPem)] },
      "sel._domainkey.evil.test": { TXT: [dkimTxtRecord(evilKey.publicKeyPem)] },
    });
    r = await startTestRelay({ dns_servers: [dns.address] });
    bob = r.newAddress();
    const first = await sendFixture(r, "encrypted", bob, bob);
    assert.equal(first.ok, true, first.response);
  });
  after(async () => {
    await r.close();
    await dns.close();
  });

  test("MAIL before STARTTLS is refused, AUTH is not offered, VRFY says 252 2.0.0", async () => {
    const c = await RawSmtp.connect(r.smtpPort);
    try {
      const ehlo = await c.command("EHLO other.test");
      assert.match(ehlo, /STARTTLS/);
      assert.doesNotMatch(ehlo, /AUTH/);
      assert.match(
        await c.command(`MAIL FROM:<${sender}>`),
        /^530 5\.7\.0 Must issue a STARTTLS command first/,
      );
      assert.match(await c.command(`VRFY ${bob}`), /^252 2\.0\.0/);
      assert.match(await c.command(`VRFY nobody123@${r.domain}`), /^252 2\.0\.0/);
    } finally {
      c.close();
    }
  });

  test("TLS 1.2 is enough on port 25, but not on submission (1.3 only)", async () => {
    const c = await RawSmtp.connect(r.smtpPort);
    try {
      await c.command("EHLO other.test");
      await c.starttls({ maxVersion: "TLSv1.2" });
      assert.match(await c.command("EHLO other.test"), /^250/);
    } finally {
      c.close();
    }
    const refused = await new Promise<boolean>((resolve) => {
      const t = tls.connect({
        port: r.submissionsPort,
        host: "127.0.0.1",
        rejectUnauthorized: false,
        maxVersion: "TLSv1.2",
      });
      t.on("secureConnect", () => {
        t.destroy();
        resolve(false);
      });
      t.on("error", () => resolve(true));
    });
    assert.equal(refused, true);
  });

  test("recipients of other domains: relay access denied", async () => {
    const reply = await deliverMx(
      r.smtpPort,
      sender,
      ["someone@elsewhere.test"],
      fixture("encrypted", sender, bob),
    );
    assert.match(reply, /^554 5\.7\.1 Relay access denied/);
  });

  test("an encrypted message with an aligned DKIM signature is delivered", async () => {
    const before = (await inbox(r, bob)).length;
    const reply = await deliverMx(r.smtpPort, sender, [bob], await sign(fixture("encrypted", sender, bob)));
    assert.match(reply, /^250 /);
    const mails = await inbox(r, bob);
    assert.equal(mails.length, before + 1);
    assert.doesNotMatch(mails.at(-1)!, /^DKIM-Signature:/im);
  });

  test("unsigned: 554 5.7.1 No DKIM signature found", async () => {
    const reply = await deliverMx(r.smtpPort, sender, [bob], fixture("encrypted", sender, bob));
    assert.match(reply, /^554 5\.7\.1 No DKIM signature found/);
  });

  test("signed by another domain (not aligned): No valid DKIM signature found", async () => {
    const reply = await deliverMx(
      r.smtpPort,
      sender,
      [bob],
      await sign(fixture("encrypted", sender, bob), "evil.test", evilKey),
    );
    assert.match(reply, /^554 5\.7\.1 No valid DKIM signature found/);
  });

  test("body changed after signing: No valid DKIM signature found", async () => {
    const signed = (await sign(fixture("encrypted", sender, bob))).toString();
    const tampered = Buffer.from(signed.replace("Version: 1", "Version: 1 "));
    const reply = await deliverMx(r.smtpPort, sender, [bob], tampered);
    assert.match(reply, /^554 5\.7\.1 No valid DKIM signature found/);
  });

  test("unencrypted incoming mail: 523", async () => {
    const reply = await deliverMx(r.smtpPort, sender, [bob], await sign(fixture("plain", sender, bob)));
    assert.match(reply, /^523 Encryption Needed: Invalid Unencrypted Mail/);
  });

  test("a signed mailer-daemon report is accepted incoming", async () => {
    const daemon = "mailer-daemon@other.test";
    const report = Buffer.from(
      fixture("mailer-daemon", daemon, bob).toString().replace("MAILER-DAEMON@example.org", daemon),
    );
    const reply = await deliverMx(r.smtpPort, daemon, [bob], await sign(report));
    assert.match(reply, /^250 /);
  });

  test("an envelope sender differing from From is not rejected", async () => {
    const reply = await deliverMx(
      r.smtpPort,
      "bounces@forwarder.test",
      [bob],
      await sign(fixture("encrypted", sender, bob)),
    );
    assert.match(reply, /^250 /);
  });

  test("a message to an unknown local user is accepted (no enumeration)", async () => {
    const reply = await deliverMx(
      r.smtpPort,
      sender,
      [`nobody123@${r.domain}`],
      await sign(fixture("encrypted", sender, bob)),
    );
    assert.match(reply, /^250 /);
  });
});
