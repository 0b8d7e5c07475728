import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Config } from "../../src/config/types.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { fixture } from "../support/mail.ts";
import { commonFreePort } from "../support/ports.ts";
import { inbox as messages, publishDkim, startTestRelay, type TestRelay, until } from "../support/relay.ts";
import { submit } from "../support/smtp.ts";

const A_IP = "127.0.0.2";
const B_IP = "127.0.0.3";
const A = "_alpha.test";
const B = "_beta.test";

/** An encrypted message from `from` (a user of `r`) to `to`, submitted on `r`. */
function sendEncrypted(r: TestRelay, from: string, password: string, to: string) {
  return submit(r.submissions, from, password, { from, to: [to] }, fixture("encrypted", from, to));
}

/** The channel ("smtp" or "https") of each message `r` takes from another server, in order. */
function channels(r: TestRelay): string[] {
  const vias: string[] = [];
  const delivery = r.relay.parts.delivery;
  const accept = delivery.accept.bind(delivery);
  delivery.accept = (envelope, message, origin) => {
    if (origin.kind === "mx") vias.push(origin.via);
    return accept(envelope, message, origin);
  };
  return vias;
}

describe("federation between two relays", () => {
  let dns: DnsServer;
  let a: TestRelay;
  let b: TestRelay | undefined;
  let ports: { https: number; smtp: number };
  let alice: string;
  let bob: string;

  function relayConfig(domain: string, ip: string, extra: Partial<Config> = {}): Partial<Config> {
    return {
      mail_domain: domain,
      listen_address: ip,
      dns_servers: [dns.address],
      https_port: ports.https,
      smtp_port: ports.smtp,
      outbound_https_port: ports.https,
      outbound_smtp_port: ports.smtp,
      ...extra,
    };
  }

  async function startB(extra: Partial<Config> = {}, dataDir?: string): Promise<TestRelay> {
    const relay = await startTestRelay(
      relayConfig(B, B_IP, { ...extra, ...(dataDir ? { data_dir: dataDir } : {}) }),
    );
    publishDkim(dns, relay);
    return relay;
  }

  before(async () => {
    dns = await startDnsServer({
      [A]: { A: [A_IP], MX: [{ exchange: A, priority: 10 }] },
      [B]: { A: [B_IP], MX: [{ exchange: B, priority: 10 }] },
      "nullmx.test": { MX: [{ exchange: "", priority: 0 }] },
    });
    ports = { https: await commonFreePort([A_IP, B_IP]), smtp: await commonFreePort([A_IP, B_IP]) };
    a = await startTestRelay(relayConfig(A, A_IP));
    publishDkim(dns, a);
    alice = `alice1234@${A}`;
    bob = `bob123456@${B}`;
  });
  after(async () => {
    await b?.close();
    await a.close();
    await dns.close();
  });

  test("(a) over HTTPS /mxdeliv, both ways", async () => {
    b = await startB();
    const intoA = channels(a);
    const intoB = channels(b);
    // bob exists on B
    assert.equal((await sendEncrypted(b, bob, "password-bob", bob)).ok, true);
    const sent = await sendEncrypted(a, alice, "password-alice", bob);
    assert.equal(sent.ok, true, sent.response);
    const got = await until("bob's copy", async () => {
      const m = await messages(b!, bob);
      return m.length >= 2 ? m : undefined;
    });
    assert.match(got.at(-1)!, new RegExp(`^From: ${alice}`, "m"));
    assert.doesNotMatch(got.at(-1)!, /^DKIM-Signature/m);
    const back = await sendEncrypted(b, bob, "password-bob", alice);
    assert.equal(back.ok, true, back.response);
    await until("alice's copy", async () => ((await messages(a, alice)).length >= 1 ? true : undefined));
    assert.deepEqual(intoB, ["https"], "A reached B over /mxdeliv");
    assert.deepEqual(intoA, ["https"], "B reached A over /mxdeliv");
    assert.equal((await a.relay.parts.store.listJobs("outbound")).length, 0);
  });

  test("(b) over SMTP with STARTTLS when B's HTTPS endpoint is off", async () => {
    const dir = b!.config.data_dir;
    await b!.relay.stop(500);
    b = await startB({ https_port: -1 }, dir);
    const intoB = channels(b);
    const before = (await messages(b, bob)).length;
    const sent = await sendEncrypted(a, alice, "password-alice", bob);
    assert.equal(sent.ok, true, sent.response);
    await until("bob's copy over SMTP", async () =>
      (await messages(b!, bob)).length > before ? true : undefined,
    );
    assert.deepEqual(intoB, ["smtp"]);
  });

  test("(c) destination down: deferred, then delivered when it is back", async () => {
    const dir = b!.config.data_dir;
    await b!.relay.stop(500);
    b = undefined;
    const sent = await sendEncrypted(a, alice, "password-alice", bob);
    assert.equal(sent.ok, true, sent.response);
    const job = await until("a deferred job", async () => {
      const jobs = await a.relay.parts.store.listJobs("outbound");
      return jobs.find((j) => (j.payload as { attempts: number }).attempts >= 1);
    });
    assert.ok(job.dueAt > Date.now(), "retry is scheduled in the future");
    b = await startB({}, dir);
    const before = (await messages(b, bob)).length;
    await a.relay.parts.outbound.retryAll();
    await until("the deferred message", async () =>
      (await messages(b!, bob)).length > before ? true : undefined,
    );
    // B stores the message before it answers; A drops the job when the answer arrives
    await until("the job to be done", async () =>
      (await a.relay.parts.store.listJobs("outbound")).length === 0 ? true : undefined,
    );
  });

  test("(d) a non-existent domain and a null-MX domain bounce to the sender", async () => {
    const before = (await messages(a, alice)).length;
    for (const rcpt of ["someone12@nonexistent.test", "someone12@nullmx.test"]) {
      const sent = await sendEncrypted(a, alice, "password-alice", rcpt);
      assert.equal(sent.ok, true, sent.response);
    }
    const got = await until("two bounces", async () => {
      const m = await messages(a, alice);
      return m.length >= before + 2 ? m.slice(before) : undefined;
    });
    const text = got.join("\n");
    assert.match(text, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(text, /From: Mail Delivery System <MAILER-DAEMON@_alpha\.test>/);
    assert.match(text, /Final-Recipient: rfc822; someone12@nonexistent\.test/);
    assert.match(text, /Domain nonexistent\.test does not exist/);
    assert.match(text, /Final-Recipient: rfc822; someone12@nullmx\.test/);
    assert.match(text, /556 5\.1\.10/);
    assert.match(text, /In-Reply-To: <Mr\.UVyJWZmkCKM\.hGzNc6glBE_@c2\.testrun\.org>/);
  });
});
