/**
 * The real Delta Chat core across two relays with different domains: Secure-Join
 * and messages both ways, once over HTTPS /mxdeliv and once over SMTP (both
 * relays with their HTTPS listener off). Names come from a DNS server on
 * loopback; the core itself is given the relays' IP addresses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Config } from "../../src/config/types.ts";
import {
  type DcAccount,
  DeltaChat,
  randomAddress,
  secureJoin,
  sendAndReceive,
} from "../support/deltachat.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { commonFreePort } from "../support/ports.ts";
import { publishDkim, startTestRelay, type TestRelay } from "../support/relay.ts";
import { PASSWORD, relayLog, serverOf } from "./helpers.ts";

const A_IP = "127.0.0.2";
const B_IP = "127.0.0.3";
const A = "_alpha.test";
const B = "_beta.test";

/** Records how mail from other relays arrives at `r` ("https" for /mxdeliv, "smtp"). */
function spyOnArrivals(r: TestRelay): string[] {
  const via: string[] = [];
  const delivery = r.relay.parts.delivery;
  const accept = delivery.accept.bind(delivery);
  delivery.accept = (envelope, message, origin) => {
    if (origin.kind === "mx") via.push(origin.via);
    return accept(envelope, message, origin);
  };
  return via;
}

for (const channel of ["https", "smtp"] as const) {
  describe(`Delta Chat core across two relays, ${channel === "https" ? "HTTPS /mxdeliv" : "SMTP"}`, () => {
    let dns: DnsServer;
    let a: TestRelay;
    let b: TestRelay;
    let dc: DeltaChat;
    let alice: DcAccount;
    let bob: DcAccount;
    const arrivals = { a: [] as string[], b: [] as string[] };

    before(async () => {
      dns = await startDnsServer({
        [A]: { A: [A_IP], MX: [{ exchange: A, priority: 10 }] },
        [B]: { A: [B_IP], MX: [{ exchange: B, priority: 10 }] },
      });
      const ports = { https: await commonFreePort([A_IP, B_IP]), smtp: await commonFreePort([A_IP, B_IP]) };
      const config = (domain: string, ip: string): Partial<Config> => ({
        mail_domain: domain,
        listen_address: ip,
        dns_servers: [dns.address],
        https_port: channel === "https" ? ports.https : -1,
        smtp_port: ports.smtp,
        outbound_https_port: ports.https,
        outbound_smtp_port: ports.smtp,
      });
      [a, b] = await Promise.all([
        startTestRelay(config(A, A_IP), { log: relayLog(A) }),
        startTestRelay(config(B, B_IP), { log: relayLog(B) }),
      ]);
      publishDkim(dns, a);
      publishDkim(dns, b);
      arrivals.a = spyOnArrivals(a);
      arrivals.b = spyOnArrivals(b);
      dc = await DeltaChat.start();
    });
    after(async () => {
      await dc?.close();
      await Promise.all([a?.close(), b?.close()]);
      await dns?.close();
    });

    test("Secure-Join and messages both ways between the two domains", async () => {
      [alice, bob] = await Promise.all([
        dc.login(serverOf(a), randomAddress(A), PASSWORD, { name: "Alice" }),
        dc.login(serverOf(b), randomAddress(B), PASSWORD, { name: "Bob" }),
      ]);
      const joined = await secureJoin(alice, bob);
      const toAlice = await sendAndReceive(bob, joined.joinerChat, alice, `from ${B} to ${A}`);
      assert.equal(toAlice.msg.showPadlock, true);
      const toBob = await sendAndReceive(alice, joined.inviterChat, bob, `from ${A} to ${B} ✓`);
      assert.equal(toBob.msg.showPadlock, true);
      // the handshake (2 mails each way) and the messages all crossed by the expected channel
      assert.ok(arrivals.a.length >= 3 && arrivals.b.length >= 3, `A got ${arrivals.a}, B got ${arrivals.b}`);
      assert.deepEqual(new Set([...arrivals.a, ...arrivals.b]), new Set([channel]));
    });
  });
}
