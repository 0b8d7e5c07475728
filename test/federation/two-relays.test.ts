import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Config } from "../../src/config/types.ts";
import { A, arrivalChannels, B, type Federation, startFederation } from "../support/federation.ts";
import { inbox as messages, type TestRelay, until } from "../support/relay.ts";
import { sendFixture } from "../support/send.ts";

describe("federation between two relays", () => {
  let fed: Federation;
  let a: TestRelay;
  let b: TestRelay | undefined;
  let alice: string;
  let bob: string;

  function startB(extra: Partial<Config> = {}, dataDir?: string): Promise<TestRelay> {
    return fed.start(B, { ...extra, ...(dataDir ? { data_dir: dataDir } : {}) });
  }

  before(async () => {
    fed = await startFederation({ "nullmx.test": { MX: [{ exchange: "", priority: 0 }] } });
    a = await fed.start(A);
    alice = `alice1234@${A}`;
    bob = `bob123456@${B}`;
  });
  after(async () => {
    await b?.close();
    await a.close();
    await fed.close();
  });

  test("(a) over HTTPS /mxdeliv, both ways", async () => {
    b = await startB();
    const intoA = arrivalChannels(a);
    const intoB = arrivalChannels(b);
    // bob exists on B
    assert.equal((await sendFixture(b, "encrypted", bob, bob, { password: "password-bob" })).ok, true);
    const sent = await sendFixture(a, "encrypted", alice, bob, { password: "password-alice" });
    assert.equal(sent.ok, true, sent.response);
    const got = await until("bob's copy", async () => {
      const m = await messages(b!, bob);
      return m.length >= 2 ? m : undefined;
    });
    assert.match(got.at(-1)!, new RegExp(`^From: ${alice}`, "m"));
    assert.doesNotMatch(got.at(-1)!, /^DKIM-Signature/m);
    const back = await sendFixture(b, "encrypted", bob, alice, { password: "password-bob" });
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
    const intoB = arrivalChannels(b);
    const before = (await messages(b, bob)).length;
    const sent = await sendFixture(a, "encrypted", alice, bob, { password: "password-alice" });
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
    const sent = await sendFixture(a, "encrypted", alice, bob, { password: "password-alice" });
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
      const sent = await sendFixture(a, "encrypted", alice, rcpt, { password: "password-alice" });
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
