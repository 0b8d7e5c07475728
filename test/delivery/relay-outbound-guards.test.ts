/**
 * The outbound guards through whole relays: a remote domain whose HTTPS server
 * answers 200 with a web page still gets the message (over SMTP), and a relay
 * without outbound_allow_private never connects inside and bounces instead.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { A, B, B_IP, type Federation, startFederation } from "../support/federation.ts";
import { inbox, startTestRelay, type TestRelay, until } from "../support/relay.ts";
import { sendFixture } from "../support/send.ts";
import { countingPort, fakeHttps } from "./outbound-harness.ts";

describe("relay outbound guards", () => {
  let fed: Federation;
  const relays: TestRelay[] = [];
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    fed = await startFederation({
      "inside.test": { MX: [{ exchange: "mx.inside.test", priority: 10 }] },
      "mx.inside.test": { A: ["127.0.0.1"] },
    });
  });
  after(async () => {
    for (const r of relays) await r.close();
    for (const c of closers) await c();
    await fed.close();
  });

  test("B's web server answers 200 with a page to anything: the message reaches B over SMTP", async () => {
    const a = await fed.start(A);
    relays.push(a);
    // B has no /mxdeliv; a plain web server holds its HTTPS port
    const b = await fed.start(B, { https_port: -1 });
    relays.push(b);
    const web = await fakeHttps(
      (_req, res) => res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><p>Welcome</p>"),
      B_IP,
      fed.ports.https,
    );
    closers.push(web.close);
    const alice = `alice1234@${A}`;
    const bob = `bob123456@${B}`;
    assert.equal(
      (await sendFixture(b, "encrypted", bob, bob, { password: "password-bob" })).ok,
      true,
      "bob exists on B",
    );
    const sent = await sendFixture(a, "encrypted", alice, bob, { password: "password-alice" });
    assert.equal(sent.ok, true, sent.response);
    const got = await until(
      "bob's copy over SMTP",
      async () => {
        const m = await inbox(b, bob);
        return m.length >= 2 ? m : undefined;
      },
      () => `web server saw ${web.state.requests} request(s)`,
    );
    assert.match(got.at(-1)!, new RegExp(`^From: ${alice}`, "m"));
    assert.ok(web.state.requests >= 1, "the HTTPS channel was tried first");
    await until("A's queue to empty", async () =>
      (await a.relay.parts.store.listJobs("outbound")).length === 0 ? true : undefined,
    );
  });

  test("outbound_allow_private=false: mail to [127.0.0.1] and to an MX on 127.0.0.1 bounces, no connection", async () => {
    const https = await countingPort();
    const smtp = await countingPort();
    closers.push(https.close, smtp.close);
    const r = await startTestRelay({
      mail_domain: "_gamma.test",
      dns_servers: [fed.dns.address],
      outbound_allow_private: false,
      outbound_https_port: https.port,
      outbound_smtp_port: smtp.port,
    });
    relays.push(r);
    const carol = "carol1234@_gamma.test";
    for (const rcpt of ["bob123456@[127.0.0.1]", "bob123456@inside.test"]) {
      const sent = await sendFixture(r, "encrypted", carol, rcpt, { password: "password-carol" });
      assert.equal(sent.ok, true, sent.response);
    }
    const bounces = await until("two bounces", async () => {
      const m = await inbox(r, carol);
      return m.length >= 2 ? m : undefined;
    });
    const text = bounces.join("\n");
    assert.match(text, /Final-Recipient: rfc822; bob123456@\[127\.0\.0\.1\]/);
    assert.match(text, /Final-Recipient: rfc822; bob123456@inside\.test/);
    assert.match(text, /Diagnostic-Code: smtp; 550 5\.4\.4 /);
    const inside = bounces.find((m) => m.includes("@inside.test"))!;
    assert.ok(!inside.includes("127.0.0.1"), "the bounce does not show where inside.test points");
    assert.ok(!text.includes("ECONN"));
    assert.equal(https.state.connections, 0, "no HTTPS connection");
    assert.equal(smtp.state.connections, 0, "no SMTP connection");
  });
});
