/**
 * The outbound queue's unhappy results on its own clock: the retry backoff,
 * the bounce after max_queue_lifetime, a permanent 5xx, and a mix of per
 * recipient replies. A real store, a real SMTP receiver on loopback; time
 * moves only when the test moves it (no retryAll()).
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { OUTBOUND_QUEUE, type OutboundPayload, retryDelayMs } from "../../src/delivery/outbound/queue.ts";
import type { Job } from "../../src/store/types.ts";
import { startQueue, type TestQueue, tableResolver } from "./outbound-harness.ts";
import { type ScriptedSmtp, scriptedSmtp } from "./scripted-smtp.ts";

// far from the wall clock, so a mix-up of clocks shows
const T0 = Date.UTC(2031, 0, 1);
const DOMAIN = "_dest.test";
const dns = tableResolver({
  [DOMAIN]: { MX: [{ exchange: "_mx.dest.test", priority: 10 }] },
  "_mx.dest.test": { A: ["127.0.0.1"] },
});

describe("outbound queue: retries and bounces", () => {
  let q: TestQueue | undefined;
  let smtp: ScriptedSmtp | undefined;
  let t = T0;

  async function start(script: (rcpt: string) => string, overrides = {}) {
    t = T0;
    smtp = await scriptedSmtp(script);
    q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: 0, outbound_smtp_port: smtp.port, ...overrides },
      dns,
      { now: () => t, random: () => 0.5 },
    );
    return { q, smtp };
  }
  /** Sets the clock, lets the queue look for due jobs, waits until it is done. */
  async function at(time: number) {
    t = time;
    q!.queue.poll();
    await q!.queue.idle();
  }
  async function theJob(): Promise<Job | undefined> {
    const jobs = await q!.store.listJobs(OUTBOUND_QUEUE);
    assert.ok(jobs.length <= 1, "one job per destination domain");
    return jobs[0];
  }
  afterEach(async () => {
    await q?.close();
    await smtp?.close();
    q = smtp = undefined;
  });

  test("jitter stays within ±25 % of the base delay", () => {
    assert.equal(
      retryDelayMs(0, () => 0),
      45_000,
    );
    assert.equal(
      retryDelayMs(0, () => 1),
      75_000,
    );
    assert.equal(
      retryDelayMs(3, () => 0.5),
      480_000,
    );
    assert.equal(
      retryDelayMs(20, () => 1),
      4_500_000,
    );
  });

  test("a 451 is retried after 1, 2, 4, … minutes, capped at an hour; never earlier", async () => {
    const { q, smtp } = await start(() => "451 4.3.0 try again later");
    await q.send([`later123@${DOMAIN}`]);
    await q.queue.idle();
    assert.equal(smtp.rcpts.length, 1, "tried at once");
    const minutes = [1, 2, 4, 8, 16, 32, 60, 60];
    let last = T0;
    for (const [i, m] of minutes.entries()) {
      const job = (await theJob())!;
      assert.ok(job, "still queued");
      assert.equal(job.dueAt - last, m * 60_000, `retry ${i + 1} is due ${m} min after try ${i + 1}`);
      assert.equal((job.payload as OutboundPayload).attempts, i + 1);
      await at(job.dueAt - 1);
      assert.equal(smtp.rcpts.length, i + 1, `retry ${i + 1} not before it is due`);
      await at(job.dueAt);
      assert.equal(smtp.rcpts.length, i + 2, `retry ${i + 1} when it is due`);
      last = job.dueAt;
    }
    assert.equal(q.failed.length, 0, "no bounce within the queue lifetime");
  });

  test("after max_queue_lifetime a still-deferred message bounces with 4.4.7, once", async () => {
    const { q, smtp } = await start(() => "451 4.3.0 try again later", { max_queue_lifetime: 3600 });
    await q.send([`later123@${DOMAIN}`]);
    await q.queue.idle();
    let lastBefore = T0;
    for (;;) {
      const job = await theJob();
      if (!job) break;
      if (job.dueAt - T0 < 3_600_000) lastBefore = job.dueAt;
      assert.equal(q.failed.length, 0, `no bounce while the job is queued (at +${(t - T0) / 1000} s)`);
      await at(job.dueAt);
      assert.ok(t - T0 < 3 * 3_600_000, "the job ends");
    }
    assert.ok(lastBefore > T0, "it was retried inside the lifetime");
    assert.ok(t - T0 >= 3_600_000, "the bounce comes only after the lifetime");
    assert.equal(q.failed.length, 1);
    const [{ mailFrom, failed }] = q.failed as [TestQueue["failed"][number]];
    assert.equal(mailFrom, "alice1234@_origin.test");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.recipient, `later123@${DOMAIN}`);
    // RFC 3463 §3.5: X.4.7 Delivery time expired
    assert.equal(failed[0]!.status, "4.4.7");
    assert.match(failed[0]!.diagnostic, /451 4\.3\.0 try again later/);
    const tries = smtp.rcpts.length;
    await at(t + 86_400_000);
    assert.equal(smtp.rcpts.length, tries, "nothing more is tried");
  });

  test("a permanent 550 bounces at once and is never retried", async () => {
    const { q, smtp } = await start(() => "550 5.1.1 no such user");
    await q.send([`nobody12@${DOMAIN}`]);
    await q.queue.idle();
    assert.equal(q.failed.length, 1);
    const f = q.failed[0]!.failed;
    assert.deepEqual(
      f.map((x) => [x.recipient, x.status]),
      [[`nobody12@${DOMAIN}`, "5.1.1"]],
    );
    assert.match(f[0]!.diagnostic, /^550 5\.1\.1 no such user/);
    assert.equal(await theJob(), undefined, "the job is gone");
    await at(T0 + 86_400_000);
    assert.equal(smtp.rcpts.length, 1, "one try only");
    assert.equal(q.failed.length, 1, "one bounce only");
  });

  test("250, 550 and 451 in one transaction: one bounce, a retry of the 451 only", async () => {
    let laterOk = false;
    const { q, smtp } = await start((rcpt) => {
      if (rcpt.startsWith("ok")) return "250";
      if (rcpt.startsWith("bad")) return "550 5.1.1 no such user";
      return laterOk ? "250" : "451 4.2.1 mailbox busy";
    });
    const [ok, bad, later] = ["ok123456", "bad12345", "later123"].map((u) => `${u}@${DOMAIN}`) as [
      string,
      string,
      string,
    ];
    await q.send([ok, bad, later]);
    await q.queue.idle();
    assert.deepEqual(smtp.messages, [{ to: [ok] }], "the 250 recipient got it");
    assert.equal(q.failed.length, 1, "one bounce");
    assert.deepEqual(
      q.failed[0]!.failed.map((x) => [x.recipient, x.status]),
      [[bad, "5.1.1"]],
    );
    const job = (await theJob())!;
    assert.deepEqual((job.payload as OutboundPayload).recipients, [later], "only the 451 stays queued");
    assert.equal(job.lastError, "451 4.2.1 mailbox busy");

    smtp.rcpts.length = 0;
    await at(job.dueAt);
    assert.deepEqual(smtp.rcpts, [later], "the retry names only the deferred recipient");
    assert.equal(smtp.messages.length, 1);

    laterOk = true;
    smtp.rcpts.length = 0;
    await at((await theJob())!.dueAt);
    assert.deepEqual(smtp.rcpts, [later]);
    assert.deepEqual(smtp.messages, [{ to: [ok] }, { to: [later] }], "nothing re-sent to the first");
    assert.equal(await theJob(), undefined);
    assert.equal(q.failed.length, 1, "still one bounce");
  });
});
