import assert from "node:assert/strict";
import { test } from "node:test";
import { DkimKeyCache, type TxtResolver } from "../../src/dkim/key-cache.ts";

function countingResolver(): TxtResolver & { calls: string[]; fail: Set<string> } {
  const calls: string[] = [];
  const fail = new Set<string>();
  return {
    calls,
    fail,
    async resolveTxt(name: string) {
      calls.push(name);
      if (fail.has(name)) throw Object.assign(new Error("nope"), { code: "ESERVFAIL" });
      return [[`v=DKIM1; p=${name}`]];
    },
  };
}

test("a cached key is served without a new lookup, names case-insensitive", async () => {
  const inner = countingResolver();
  const cache = new DkimKeyCache(inner);
  assert.deepEqual(await cache.resolveTxt("s._domainkey.a.test"), [["v=DKIM1; p=s._domainkey.a.test"]]);
  assert.deepEqual(await cache.resolveTxt("S._domainkey.A.test."), [["v=DKIM1; p=s._domainkey.a.test"]]);
  assert.deepEqual(inner.calls, ["s._domainkey.a.test"]);
  assert.equal(cache.size, 1);
});

test("entries expire after the TTL", async () => {
  const inner = countingResolver();
  let now = 1000;
  const cache = new DkimKeyCache(inner, { ttlMs: 50, now: () => now });
  await cache.resolveTxt("k.test");
  now += 49;
  await cache.resolveTxt("k.test");
  assert.equal(inner.calls.length, 1);
  now += 1;
  await cache.resolveTxt("k.test");
  assert.equal(inner.calls.length, 2);
});

test("least recently used entry is evicted at capacity", async () => {
  const inner = countingResolver();
  const cache = new DkimKeyCache(inner, { maxEntries: 2 });
  await cache.resolveTxt("a.test");
  await cache.resolveTxt("b.test");
  await cache.resolveTxt("a.test"); // a is now the most recently used
  await cache.resolveTxt("c.test"); // evicts b
  assert.equal(cache.size, 2);
  inner.calls.length = 0;
  await cache.resolveTxt("a.test");
  await cache.resolveTxt("c.test");
  assert.deepEqual(inner.calls, []);
  await cache.resolveTxt("b.test");
  assert.deepEqual(inner.calls, ["b.test"]);
});

test("default capacity is 1000", async () => {
  const inner = countingResolver();
  const cache = new DkimKeyCache(inner);
  for (let i = 0; i < 1001; i++) await cache.resolveTxt(`k${i}.test`);
  assert.equal(cache.size, 1000);
  inner.calls.length = 0;
  await cache.resolveTxt("k0.test");
  assert.deepEqual(inner.calls, ["k0.test"], "the oldest entry was evicted");
});

test("invalidate forgets an entry", async () => {
  const inner = countingResolver();
  const cache = new DkimKeyCache(inner);
  await cache.resolveTxt("a.test");
  cache.invalidate("A.test");
  await cache.resolveTxt("a.test");
  assert.equal(inner.calls.length, 2);
});

test("failed lookups are not cached", async () => {
  const inner = countingResolver();
  inner.fail.add("bad.test");
  const cache = new DkimKeyCache(inner);
  await assert.rejects(cache.resolveTxt("bad.test"), { code: "ESERVFAIL" });
  inner.fail.delete("bad.test");
  assert.deepEqual(await cache.resolveTxt("bad.test"), [["v=DKIM1; p=bad.test"]]);
  assert.equal(inner.calls.length, 2);
});

test("concurrent lookups of one name share a query", async () => {
  const inner = countingResolver();
  const cache = new DkimKeyCache(inner);
  const results = await Promise.all([
    cache.resolveTxt("a.test"),
    cache.resolveTxt("a.test"),
    cache.resolveTxt("a.test"),
  ]);
  assert.equal(inner.calls.length, 1);
  assert.deepEqual(results[0], results[2]);
});
