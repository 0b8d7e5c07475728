// GCRA limiter with an injected clock: governor's per_minute(n).allow_burst(b).

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Gcra } from "../../src/policy/gcra.ts";

function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

test("burst, then reject, then one cell per interval", () => {
  const c = clock();
  const g = new Gcra({ perMinute: 60, burst: 10, now: c.now });
  for (let i = 0; i < 10; i++) assert.deepEqual(g.take("a"), { ok: true }, `burst cell ${i}`);
  assert.deepEqual(g.take("a"), { ok: false, retryAfterMs: 1000 });
  c.t += 999;
  assert.deepEqual(g.take("a"), { ok: false, retryAfterMs: 1 });
  c.t += 1;
  assert.deepEqual(g.take("a"), { ok: true });
  assert.equal(g.take("a").ok, false);
  // other keys are independent
  assert.deepEqual(g.take("b"), { ok: true });
});

test("full recovery after burst * interval", () => {
  const c = clock();
  const g = new Gcra({ perMinute: 6, burst: 3, now: c.now }); // one per 10 s
  for (let i = 0; i < 3; i++) assert.equal(g.take("k").ok, true);
  assert.deepEqual(g.take("k"), { ok: false, retryAfterMs: 10_000 });
  c.t += 30_000;
  for (let i = 0; i < 3; i++) assert.equal(g.take("k").ok, true, `after recovery ${i}`);
  assert.equal(g.take("k").ok, false);
});

test("burst 1 allows exactly the sustained rate", () => {
  const c = clock();
  const g = new Gcra({ perMinute: 120, burst: 1, now: c.now });
  assert.equal(g.take("k").ok, true);
  assert.deepEqual(g.take("k"), { ok: false, retryAfterMs: 500 });
  c.t += 500;
  assert.equal(g.take("k").ok, true);
});

test("rejected attempts do not consume cells", () => {
  const c = clock();
  const g = new Gcra({ perMinute: 60, burst: 1, now: c.now });
  assert.equal(g.take("k").ok, true);
  for (let i = 0; i < 100; i++) assert.equal(g.take("k").ok, false);
  c.t += 1000;
  assert.equal(g.take("k").ok, true);
});

test("property: over any run, accepted cells never exceed burst + elapsed / interval", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 600 }),
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 200 }),
      (perMinute, burst, steps) => {
        const c = clock(0);
        const g = new Gcra({ perMinute, burst, now: c.now });
        const interval = Math.floor(60_000_000 / perMinute) / 1000;
        let accepted = 0;
        for (const step of steps) {
          c.t += step;
          const r = g.take("k");
          if (r.ok) accepted++;
          else {
            assert.ok(r.retryAfterMs > 0);
            assert.ok(r.retryAfterMs <= Math.ceil(interval), "never longer than one interval");
          }
          assert.ok(accepted <= burst + Math.floor(c.t / interval));
        }
      },
    ),
    { numRuns: 200 },
  );
});

test("memory: keys whose state is in the past are swept", () => {
  const c = clock();
  const g = new Gcra({ perMinute: 60, burst: 5, now: c.now, sweepIntervalMs: 10_000 });
  for (let i = 0; i < 500; i++) g.take(`user${i}@x.example`);
  assert.equal(g.size, 500);
  c.t += 1_000;
  assert.equal(g.sweep(), 500, "all TATs are 1 s after the take");
  assert.equal(g.size, 0);

  for (let i = 0; i < 100; i++) g.take(`user${i}@x.example`);
  c.t += 20_000;
  g.take("trigger@x.example"); // interval passed: sweeps on take
  assert.equal(g.size, 1);

  // many distinct keys at one instant: bounded by the size-triggered sweep
  const h = new Gcra({ perMinute: 60, burst: 1, now: c.now });
  for (let i = 0; i < 5000; i++) {
    c.t += 1_000; // each key's state expires before the next key comes
    h.take(`k${i}`);
  }
  assert.ok(h.size <= 1024, `size ${h.size}`);
});

test("invalid options", () => {
  assert.throws(() => new Gcra({ perMinute: 0, burst: 1 }), RangeError);
  assert.throws(() => new Gcra({ perMinute: 10, burst: 0 }), RangeError);
  assert.throws(() => new Gcra({ perMinute: 10, burst: 1.5 }), RangeError);
  assert.equal(new Gcra({ perMinute: 60, burst: 10 }).take("k").ok, true, "default clock");
});
