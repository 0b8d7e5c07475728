/**
 * The real Delta Chat core across two relays with different domains: Secure-Join
 * and messages both ways, once over HTTPS /mxdeliv and once over SMTP (both
 * relays with their HTTPS listener off). Names come from a DNS server on
 * loopback; the core itself is given the relays' IP addresses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type DcAccount,
  DeltaChat,
  randomAddress,
  secureJoin,
  sendAndReceive,
} from "../support/deltachat.ts";
import { A, arrivalChannels, B, type Federation, startFederation } from "../support/federation.ts";
import type { TestRelay } from "../support/relay.ts";
import { PASSWORD, relayLog, serverOf } from "./helpers.ts";

for (const channel of ["https", "smtp"] as const) {
  describe(`Delta Chat core across two relays, ${channel === "https" ? "HTTPS /mxdeliv" : "SMTP"}`, () => {
    let fed: Federation;
    let a: TestRelay;
    let b: TestRelay;
    let dc: DeltaChat;
    let alice: DcAccount;
    let bob: DcAccount;
    const arrivals = { a: [] as string[], b: [] as string[] };

    before(async () => {
      fed = await startFederation();
      const extra = { https_port: channel === "https" ? fed.ports.https : -1 };
      [a, b] = await Promise.all([
        fed.start(A, extra, { log: relayLog(A) }),
        fed.start(B, extra, { log: relayLog(B) }),
      ]);
      arrivals.a = arrivalChannels(a);
      arrivals.b = arrivalChannels(b);
      dc = await DeltaChat.start();
    });
    after(async () => {
      await dc?.close();
      await Promise.all([a?.close(), b?.close()]);
      await fed?.close();
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
