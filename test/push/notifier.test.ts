import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { testConfig } from "../../src/config/load.ts";
import { LocalEventBus } from "../../src/events/bus.ts";
import { silentLogger } from "../../src/log.ts";
import { PUSH_QUEUE, PushNotifier, type PushPayload } from "../../src/push/notifier.ts";
import { DROP_DEADLINE_MS, RETRY_DELAYS_MS } from "../../src/push/schedule.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/types.ts";
import { type NotifyProxy, startNotifyProxy } from "./proxy.ts";

const BOB = "bob000001@_chatrelay.test";
const ALICE = "alice0001@_chatrelay.test";
const T0 = 1_800_000_000_000;

interface World {
  dir: string;
  store: Store;
  bus: LocalEventBus;
  proxy: NotifyProxy;
  clock: { t: number };
  notifier: PushNotifier;
  newNotifier(opts?: { url?: string; timeoutMs?: number }): PushNotifier;
  deliver(to?: string, from?: string): void;
  close(): Promise<void>;
}

async function world(opts: { url?: string; timeoutMs?: number } = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-push-"));
  const store = await openStore(dir);
  const bus = new LocalEventBus();
  const proxy = await startNotifyProxy();
  const clock = { t: T0 };
  const notifiers: PushNotifier[] = [];
  const w: World = {
    dir,
    store,
    bus,
    proxy,
    clock,
    notifier: undefined as unknown as PushNotifier,
    newNotifier(o = opts) {
      const config = testConfig({ data_dir: dir, push_url: o.url ?? proxy.url });
      const n = new PushNotifier({
        config,
        store: w.store,
        bus,
        log: silentLogger,
        now: () => clock.t,
        timeoutMs: o.timeoutMs ?? 5000,
      });
      notifiers.push(n);
      return n;
    },
    deliver(to = BOB, from = ALICE) {
      bus.publish({ kind: "exists", address: to, mailboxId: 1, records: [], sender: from });
    },
    async close() {
      for (const n of notifiers) await n.stop();
      await w.store.close();
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await store.createAccount(BOB, "x", T0 / 1000);
  await store.createAccount(ALICE, "x", T0 / 1000);
  w.notifier = w.newNotifier();
  await w.notifier.start();
  return w;
}

/** A test body run in a fresh world, closed afterwards whatever happens. */
function inWorld(body: (w: World) => Promise<void>, opts?: { url?: string; timeoutMs?: number }) {
  return async () => {
    const w = await world(opts);
    try {
      await body(w);
    } finally {
      await w.close();
    }
  };
}

/** Bob's token answered with `answer`, and one delivery to Bob tried once. */
async function firstTry(w: World, token: string, answer: number | "hang"): Promise<void> {
  await w.store.setDeviceToken(BOB, token, T0 / 1000);
  w.proxy.answer.set(token, answer);
  w.deliver();
  await w.notifier.settle();
}

async function jobs(store: Store) {
  return (await store.listJobs(PUSH_QUEUE)).map((j) => ({ ...j, payload: j.payload as PushPayload }));
}

test(
  "a delivery POSTs each valid token, raw, to push_url; 200 finishes the job",
  inWorld(async (w) => {
    await w.store.setDeviceToken(BOB, "openpgp:AAAA", T0 / 1000);
    await w.store.setDeviceToken(BOB, "fcm-chat.delta:tok2", T0 / 1000 - 10);
    await w.store.setDeviceToken(BOB, "expired", T0 / 1000 - 91 * 86400);
    w.deliver();
    await w.notifier.settle();
    assert.deepEqual(w.proxy.requests.map((r) => r.body).sort(), ["fcm-chat.delta:tok2", "openpgp:AAAA"]);
    assert.ok(w.proxy.requests.every((r) => r.method === "POST"));
    assert.deepEqual(await jobs(w.store), []);
    // the token stays
    assert.equal((await w.store.getDeviceTokens(BOB)).length, 3);
  }),
);

test(
  "no notification for the user's own copies, for APPEND, or without tokens",
  inWorld(async (w) => {
    await w.store.setDeviceToken(BOB, "tok", T0 / 1000);
    w.deliver(BOB, BOB.toUpperCase()); // bcc-self copy
    w.bus.publish({ kind: "exists", address: BOB, mailboxId: 1, records: [] }); // APPEND: no sender
    w.bus.publish({ kind: "flags", address: BOB, mailboxId: 1, records: [] });
    w.deliver(ALICE, BOB); // Alice has no token
    await w.notifier.settle();
    assert.equal(w.proxy.requests.length, 0);
    w.deliver(BOB, ""); // a bounce is not self-sent
    await w.notifier.settle();
    assert.equal(w.proxy.requests.length, 1);
  }),
);

test(
  "410 deletes the token",
  inWorld(async (w) => {
    await w.store.setDeviceToken(BOB, "gone-token", T0 / 1000);
    await w.store.setDeviceToken(BOB, "live-token", T0 / 1000);
    w.proxy.answer.set("gone-token", 410);
    w.deliver();
    await w.notifier.settle();
    assert.deepEqual(
      (await w.store.getDeviceTokens(BOB)).map((t) => t.token),
      ["live-token"],
    );
    assert.deepEqual(await jobs(w.store), []);
  }),
);

test(
  "500 retries after 8 s, 64 s, 512 s, 4096 s, then drops",
  inWorld(async (w) => {
    await firstTry(w, "tok", 500);
    for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
      const [job] = await jobs(w.store);
      assert.ok(job, `job pending after failure ${i + 1}`);
      assert.equal(job.dueAt, w.clock.t + delay);
      assert.equal(job.lastError, "HTTP 500");
      assert.equal(job.payload.failures, i + 1);
      assert.equal(job.payload.firstTry, T0);
      // not due a millisecond early
      w.clock.t += delay - 1;
      await w.notifier.poll();
      assert.equal(w.proxy.requests.length, i + 1);
      w.clock.t += 1;
      await w.notifier.poll();
      assert.equal(w.proxy.requests.length, i + 2);
    }
    assert.deepEqual(await jobs(w.store), [], "dropped after the fifth try");
    assert.equal(w.proxy.requests.length, 5);
    assert.equal((await w.store.getDeviceTokens(BOB)).length, 1, "the token stays");
  }),
);

test(
  "a notification is dropped 5 hours after the first try",
  inWorld(async (w) => {
    await firstTry(w, "tok", 503);
    assert.equal(w.proxy.requests.length, 1);
    // the relay was away for more than 5 hours: the due retry is dropped untried
    w.clock.t = T0 + DROP_DEADLINE_MS + 1;
    await w.notifier.poll();
    assert.equal(w.proxy.requests.length, 1);
    assert.deepEqual(await jobs(w.store), []);

    // a retry that would fall past the deadline is not scheduled
    w.deliver();
    await w.notifier.settle();
    const first = w.clock.t;
    for (const delay of RETRY_DELAYS_MS.slice(0, 2)) {
      w.clock.t += delay;
      await w.notifier.poll();
    }
    assert.equal(w.proxy.requests.length, 4);
    w.clock.t = first + DROP_DEADLINE_MS - 60_000; // the third retry fails close to the deadline
    await w.notifier.poll();
    assert.equal(w.proxy.requests.length, 5);
    assert.deepEqual(await jobs(w.store), [], "the fourth retry would be past the deadline");
  }),
);

test(
  "no answer within the timeout and connection errors are retried",
  inWorld(
    async (w) => {
      const closed = await startNotifyProxy();
      const deadUrl = closed.url;
      await closed.close();
      await firstTry(w, "slow", "hang");
      const [job] = await jobs(w.store);
      assert.equal(job?.lastError, "timeout");
      assert.equal(job?.dueAt, T0 + 8000);

      const n = w.newNotifier({ url: deadUrl });
      await w.notifier.stop();
      await n.start();
      w.clock.t += 8000;
      await n.poll();
      const [again] = await jobs(w.store);
      assert.equal(again?.lastError, "ECONNREFUSED");
      assert.equal(again?.payload.failures, 2);
    },
    { timeoutMs: 150 },
  ),
);

test(
  "a burst of deliveries collapses into one pending notification per token",
  inWorld(async (w) => {
    await firstTry(w, "tok", 500);
    for (let i = 0; i < 10; i++) w.deliver();
    await w.notifier.settle();
    assert.equal((await jobs(w.store)).length, 1);
    assert.equal(w.proxy.requests.length, 1, "the waiting retry is not tried early");
    w.proxy.answer.set("tok", 200);
    w.clock.t += 8000;
    await w.notifier.poll();
    assert.equal(w.proxy.requests.length, 2);
    assert.deepEqual(await jobs(w.store), []);
  }),
);

test(
  "a delivery during a request in flight is notified once more afterwards",
  inWorld(async (w) => {
    await w.store.setDeviceToken(BOB, "tok", T0 / 1000);
    w.proxy.answer.set("tok", "hold");
    w.deliver();
    await w.proxy.received(1);
    w.deliver();
    w.deliver();
    // let the enqueues reach the store, then answer
    await new Promise((r) => setTimeout(r, 50));
    w.proxy.answer.set("tok", 200);
    w.proxy.release();
    await w.proxy.received(2);
    await w.notifier.settle();
    assert.equal(w.proxy.requests.length, 2);
    assert.deepEqual(await jobs(w.store), []);
  }),
);

test(
  "pending notifications survive a restart (store closed and reopened)",
  inWorld(async (w) => {
    await firstTry(w, "tok", 500);
    await w.notifier.stop();
    await w.store.close();

    w.store = await openStore(w.dir);
    w.proxy.answer.set("tok", 200);
    w.clock.t += 8000;
    const n = w.newNotifier();
    await n.start();
    await n.settle();
    assert.equal(w.proxy.requests.length, 2);
    assert.equal(w.proxy.requests[1]?.body, "tok");
    assert.deepEqual(await jobs(w.store), []);
  }),
);

test(
  "a due retry runs by its own timer",
  inWorld(async (w) => {
    await firstTry(w, "tok", 500);
    // stop at the 500 and restart with the clock just before the retry: the timer fires 30 ms later
    await w.notifier.stop();
    w.clock.t = T0 + 8000 - 30;
    const n = w.newNotifier();
    w.proxy.answer.set("tok", 200);
    await n.start();
    await n.settle();
    assert.equal(w.proxy.requests.length, 1);
    w.clock.t = T0 + 8000;
    await w.proxy.received(2);
    await n.settle();
    assert.deepEqual(await jobs(w.store), []);
  }),
);

test(
  "a failing store never reaches the publisher",
  inWorld(async (w) => {
    // A registered token: with a healthy store this delivery would be notified.
    await w.store.setDeviceToken(BOB, "tok-failing", T0 / 1000);
    const real = w.store.getDeviceTokens.bind(w.store);
    w.store.getDeviceTokens = async () => {
      throw new Error("disk on fire");
    };
    assert.doesNotThrow(() => w.deliver());
    await w.notifier.settle();
    w.store.getDeviceTokens = real;
    assert.equal(w.proxy.requests.length, 0);
    assert.deepEqual(await jobs(w.store), []);
    // The same delivery on the healed store is notified: the token was good.
    w.deliver();
    await w.notifier.settle();
    assert.deepEqual(
      w.proxy.requests.map((r) => r.body),
      ["tok-failing"],
    );
  }),
);

test(
  "without push_url nothing is sent",
  inWorld(async (w) => {
    await w.notifier.stop();
    const n = w.newNotifier({ url: "" });
    await n.start();
    await w.store.setDeviceToken(BOB, "tok", T0 / 1000);
    w.deliver();
    await n.settle();
    assert.equal(w.proxy.requests.length, 0);
    assert.deepEqual(await jobs(w.store), []);
  }),
);
