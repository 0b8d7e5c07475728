/**
 * The hash pool's workers cost memory only while logins happen: none before
 * the first request, gone after an idle period, back on the next request.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { HashPool } from "../../src/accounts/hash-pool.ts";
import { parseSha512Crypt } from "../../src/accounts/sha512-crypt.ts";

test("hash pool: workers start on the first request and exit when idle", async () => {
  const pool = new HashPool(2, 8, 300);
  try {
    assert.equal(pool.running, 0, "no worker before a request");
    const hash = await pool.hash("password12");
    assert.ok(parseSha512Crypt(hash), hash);
    assert.equal(pool.running, 2);
    assert.equal(await pool.verify("password12", hash), true);
    const deadline = Date.now() + 10_000;
    while (pool.running > 0 && Date.now() < deadline) await sleep(50);
    assert.equal(pool.running, 0, "workers exited after the idle period");
    // started again on demand
    assert.equal(await pool.verify("password12", hash), true);
    assert.equal(await pool.verify("wrong-pass", hash), false);
    assert.equal(pool.running, 2);
  } finally {
    await pool.close();
  }
  assert.equal(pool.running, 0);
});

test("hash pool: a worker that dies fails its requests and is replaced", async () => {
  const pool = new HashPool(1, 8, 60_000);
  try {
    const hash = await pool.hash("password12");
    const workers = (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
    const inFlight = Array.from({ length: 5 }, () => pool.verify("password12", hash));
    await workers[0]!.terminate();
    const settled = await Promise.allSettled(inFlight);
    assert.ok(
      settled.some((s) => s.status === "rejected"),
      "queued requests fail, they do not hang",
    );
    assert.equal(pool.running, 0);
    assert.equal(await pool.verify("password12", hash), true, "a new worker answers");
  } finally {
    await pool.close();
  }
});

test("hash pool: a request goes to an idle worker, not behind a busy one", async () => {
  const pool = new HashPool(2, 8, 60_000);
  try {
    const slow = `$6$rounds=1000000$saltsaltsaltsalt$${"a".repeat(86)}`; // about a second
    const fast = await pool.hash("password12");
    const order: string[] = [];
    const long = pool.verify("password12", slow).then(() => order.push("long"));
    // the second worker takes this one; when it is done it is idle again
    await pool.verify("password12", fast);
    const short = pool.verify("password12", fast).then(() => order.push("short"));
    await Promise.all([long, short]);
    assert.deepEqual(order, ["short", "long"], "the short request did not wait for the long one");
  } finally {
    await pool.close();
  }
});
