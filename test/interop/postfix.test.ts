/**
 * Interoperation with a classic MTA: Debian's Postfix on 127.0.0.4 is the remote
 * domain classic.test (MX mx.classic.test), our relay chat.test runs on 127.0.0.2.
 *
 * (a) relay → Postfix: SMTP with mandatory, verified STARTTLS (docs/reference-relay.md §3.5) to a
 *     certificate from a test CA; without that CA the message stays deferred.
 * (b) Postfix → relay: Postfix relays to our MX port with TLS required, opendkim
 *     (as a milter) signs for classic.test, and our relay checks the aligned DKIM
 *     pass against the key published in the fake DNS.
 *
 * Needs root and the Debian packages in APT_PACKAGES; fails (never skips) without them.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import nodemailer from "nodemailer";
import { DkimKeyCache } from "../../src/dkim/key-cache.ts";
import { verifyAligned } from "../../src/dkim/verify.ts";
import { createResolver } from "../../src/dns/resolver.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { fixture } from "../support/mail.ts";
import { commonFreePort } from "../support/ports.ts";
import { inbox, publishDkim, startTestRelay, type TestRelay, until } from "../support/relay.ts";
import { submit } from "../support/smtp.ts";
import {
  makePki,
  type Opendkim,
  type Postfix,
  requireTools,
  startOpendkim,
  startPostfix,
  type TestPki,
} from "./postfix-harness.ts";

const RELAY_IP = "127.0.0.2";
const OTHER_IP = "127.0.0.3";
const POSTFIX_IP = "127.0.0.4";
const RELAY = "chat.test";
const OTHER = "other.test";
const CLASSIC = "classic.test";
const MX = "mx.classic.test";
const SELECTOR = "classic";

/** One message out of an mbox file (Postfix's virtual delivery), CRLF, without the "From " line. */
function mboxMessage(mbox: string, marker: string): Buffer | undefined {
  const msg = mbox.split(/^From \S+ {2}.*\n/m).find((m) => m.includes(marker));
  return msg === undefined
    ? undefined
    : Buffer.from(msg.replace(/^>(>*From )/gm, "$1").replace(/\n/g, "\r\n"));
}

/** The encrypted fixture with a Message-ID of its own (submission rewrites the Subject to "[...]"). */
function message(from: string, to: string, id: string): Buffer {
  return Buffer.from(
    fixture("encrypted", from, to)
      .toString()
      .replace(/^Message-ID: .*$/m, `Message-ID: <${id}@interop.test>`),
  );
}

/** The first `name:` header field of a CRLF message, unfolded (RFC 5322 §2.2.3). */
function field(message: Buffer | string, name: string): string {
  const re = new RegExp(`^${name}:.*(?:\\r\\n[ \\t].*)*`, "im");
  return re.exec(message.toString())?.[0].replace(/\r\n[ \t]+/g, " ") ?? "";
}

/** A free port on `host` other than `taken` (both are bound only later). */
async function otherFreePort(host: string, taken: number): Promise<number> {
  for (;;) {
    const port = await commonFreePort([host]);
    if (port !== taken) return port;
  }
}

/** Hands a message to Postfix's smtpd, as a client on the loopback would. */
async function injectIntoPostfix(port: number, envelope: { from: string; to: string[] }, raw: Buffer) {
  const t = nodemailer.createTransport({ host: POSTFIX_IP, port, secure: false, ignoreTLS: true });
  try {
    return await t.sendMail({ envelope, raw });
  } finally {
    t.close();
  }
}

describe("interop with Postfix", () => {
  let tmp: string;
  let dns: DnsServer;
  let pki: TestPki;
  let relay: TestRelay;
  let opendkim: Opendkim | undefined;
  let postfix: Postfix | undefined;
  let postfixPort: number;
  const alice = `alice1234@${RELAY}`;
  const bob = `bob123456@${RELAY}`;
  const someone = `someone@${CLASSIC}`;

  before(async () => {
    requireTools();
    tmp = mkdtempSync(join(tmpdir(), "chatrelay-postfix-"));
    // Postfix's processes run as the postfix user and must get through to their folders
    chmodSync(tmp, 0o755);
    dns = await startDnsServer({
      [CLASSIC]: { MX: [{ exchange: MX, priority: 10 }] },
      [MX]: { A: [POSTFIX_IP] },
      [RELAY]: { A: [RELAY_IP], MX: [{ exchange: RELAY, priority: 10 }] },
      [OTHER]: { A: [OTHER_IP], MX: [{ exchange: OTHER, priority: 10 }] },
    });
    pki = await makePki(join(tmp, "pki"), MX);
    postfixPort = await commonFreePort([POSTFIX_IP]);
    relay = await startTestRelay(
      {
        mail_domain: RELAY,
        listen_address: RELAY_IP,
        dns_servers: [dns.address],
        outbound_smtp_port: postfixPort,
        outbound_https_port: -1,
        https_port: -1,
      },
      { outboundCa: [pki.caPem] },
    );
    publishDkim(dns, relay);
    opendkim = await startOpendkim(join(tmp, "opendkim"), {
      domain: CLASSIC,
      selector: SELECTOR,
      host: POSTFIX_IP,
      port: await otherFreePort(POSTFIX_IP, postfixPort),
    });
    dns.zone.set(`${SELECTOR}._domainkey.${CLASSIC}`, { TXT: [opendkim.txt] });
    postfix = await startPostfix({
      dir: join(tmp, "postfix"),
      host: POSTFIX_IP,
      port: postfixPort,
      hostname: MX,
      domain: CLASSIC,
      mailboxes: ["someone", "sender"],
      tls: { certFile: pki.certFile, keyFile: pki.keyFile },
      relayhost: `[${RELAY_IP}]:${relay.smtpPort}`,
      milter: opendkim.milter,
    });
  });

  after(async () => {
    await postfix?.stop();
    await opendkim?.stop();
    await relay?.close();
    await dns?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const postfixLog = () => `--- postfix log ---\n${postfix?.log() ?? ""}`;

  test("(a) the relay delivers to Postfix over verified STARTTLS, DKIM-signed", async () => {
    const sent = await submit(
      relay.submissions,
      alice,
      "password-alice",
      { from: alice, to: [someone] },
      message(alice, someone, "interop-a-trusted"),
    );
    assert.equal(sent.ok, true, sent.response);
    const got = await until(
      "the message in Postfix's mailbox",
      () => mboxMessage(postfix!.mailbox("someone"), "<interop-a-trusted@interop.test>"),
      postfixLog,
    );
    const text = got.toString();
    // RFC 3848: "ESMTPS" is the protocol name of ESMTP over TLS
    const received = field(text, "Received");
    assert.match(received, /^Received: from chat\.test \(.*\) \(using TLSv1\.[23] /);
    assert.match(received, /\[127\.0\.0\.2\]/, "the relay connects from its own listen_address");
    assert.match(received, /\) by mx\.classic\.test \(Postfix\) with ESMTPS id /);
    assert.match(postfix!.log(), /Anonymous TLS connection established from unknown\[127\.0\.0\.\d+\]/);
    assert.match(text, new RegExp(`^From: ${alice}\r$`, "m"));
    assert.match(field(text, "DKIM-Signature"), /\bd=chat\.test;/);
    // the signature still verifies after Postfix's delivery (Received, Delivered-To added on top)
    const keys = new DkimKeyCache(createResolver([dns.address]));
    assert.deepEqual(await verifyAligned(got, RELAY, keys), { ok: true });
    assert.equal((await relay.relay.parts.store.listJobs("outbound")).length, 0);
  });

  test("(a) without the test CA the certificate is refused and the message stays queued", async () => {
    const other = await startTestRelay({
      mail_domain: OTHER,
      listen_address: OTHER_IP,
      dns_servers: [dns.address],
      outbound_smtp_port: postfixPort,
      outbound_https_port: -1,
      https_port: -1,
    });
    try {
      const carol = `carol1234@${OTHER}`;
      const sent = await submit(
        other.submissions,
        carol,
        "password-carol",
        { from: carol, to: [someone] },
        message(carol, someone, "interop-a-untrusted"),
      );
      assert.equal(sent.ok, true, sent.response);
      const job = await until("a deferred outbound job", async () => {
        const jobs = await other.relay.parts.store.listJobs("outbound");
        return jobs.find((j) => (j.payload as { attempts: number }).attempts >= 1);
      });
      assert.match(job.lastError ?? "", /^451 4\.4\.1 .*(certificate|issuer)/i);
      assert.ok(job.dueAt > Date.now(), "a retry is scheduled");
      assert.deepEqual(job.payload && (job.payload as { recipients: string[] }).recipients, [someone]);
      assert.equal(mboxMessage(postfix!.mailbox("someone"), "interop-a-untrusted"), undefined);
    } finally {
      await other.close();
    }
  });

  test("(b) Postfix relays opendkim-signed mail to the relay's MX over TLS", async () => {
    // bob's account exists once he has logged in
    const self = await submit(
      relay.submissions,
      bob,
      "password-bob",
      { from: bob, to: [bob] },
      fixture("encrypted", bob, bob, "hello me"),
    );
    assert.equal(self.ok, true, self.response);
    // a copy for a Postfix mailbox shows the signature opendkim added
    const info = await injectIntoPostfix(
      postfixPort,
      { from: someone, to: [bob, someone] },
      message(someone, bob, "interop-b-signed"),
    );
    assert.match(info.response, /^250 /);
    const copy = await until(
      "the local copy",
      () => mboxMessage(postfix!.mailbox("someone"), "<interop-b-signed@interop.test>"),
      postfixLog,
    );
    assert.match(field(copy, "DKIM-Signature"), /\bd=classic\.test; s=classic;/);
    const keys = new DkimKeyCache(createResolver([dns.address]));
    assert.deepEqual(await verifyAligned(copy, CLASSIC, keys), { ok: true });
    const got = await until(
      "the message in bob's INBOX",
      async () => (await inbox(relay, bob)).find((m) => m.includes("<interop-b-signed@interop.test>")),
      postfixLog,
    );
    assert.match(got, new RegExp(`^From: ${someone}\r$`, "m"));
    const log = postfix!.log();
    assert.match(log, /TLS connection established to 127\.0\.0\.2\[127\.0\.0\.2\]:\d+: TLSv1\.[23]/);
    assert.match(
      log,
      new RegExp(`to=<${bob}>, relay=127\\.0\\.0\\.2\\[127\\.0\\.0\\.2\\]:\\d+,.* status=sent`),
    );
  });

  test("(b) mail Postfix did not sign is refused by the relay and bounces in Postfix", async () => {
    const sender = `sender@${CLASSIC}`;
    const from = "someone@unsigned.test"; // opendkim signs only for classic.test
    const info = await injectIntoPostfix(
      postfixPort,
      { from: sender, to: [bob] },
      message(from, bob, "interop-b-unsigned"),
    );
    assert.match(info.response, /^250 /);
    const log = await until(
      "Postfix's bounce",
      () => {
        const l = postfix!.log();
        return /to=<bob123456@chat\.test>.*status=bounced/.test(l) ? l : undefined;
      },
      postfixLog,
    );
    assert.match(log, /said: 554 5\.7\.1 No (valid )?DKIM signature found/);
    // the DSN comes back to the envelope sender's mailbox on the Postfix side
    await until("the bounce in sender's mailbox", () =>
      postfix!.mailbox("sender").includes("Undelivered Mail Returned to Sender") ? true : undefined,
    );
    assert.equal((await inbox(relay, bob)).filter((m) => m.includes("interop-b-unsigned")).length, 0);
  });
});
