/**
 * Short fuzzing runs of SMTP DATA through the encryption gate: the pure gate
 * (src/policy/gate.ts) on mutated mail-data vectors, then a live relay's
 * submission listener (targets/gate.ts, targets/gate-live.ts for the
 * properties). `npm run fuzz -- gate` runs them for longer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkOutgoing } from "../../src/policy/gate.ts";
import { ciRun } from "./lib/ci.ts";
import { loadCorpus } from "./lib/engine.ts";
import { ALICE, BOB, gateTarget } from "./targets/gate.ts";
import { openGateLive } from "./targets/gate-live.ts";

test("the corpus holds the real vectors, with their known verdicts", () => {
  const corpus = new Map(loadCorpus("gate").map((c) => [c.name, c.data]));
  const verdict = (name: string) =>
    checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message: corpus.get(name) as Buffer });
  assert.deepEqual(verdict("encrypted.eml"), { ok: true });
  assert.equal(verdict("plain.eml").ok, false);
  assert.equal(verdict("fake-encrypted.eml").ok, false);
  // Findings kept as regressions: a look-alike delimiter, a bare CR in Content-Type, an
  // 8-bit From echoed in the reply.
  assert.equal(verdict("finding-boundary-prefix.eml").ok, false);
  assert.equal(verdict("finding-bare-cr-content-type.eml").ok, false);
  const echoed = verdict("finding-8bit-from-echo.eml");
  assert.ok(!echoed.ok && /^[\x20-\x7e]*$/.test(echoed.text), JSON.stringify(echoed));
});

test("fuzz: the pure gate on mutated messages", async () => {
  await ciRun(gateTarget(), 8, 1000);
});

test("fuzz: SMTP DATA through a live submission listener", async () => {
  const live = await openGateLive();
  try {
    await ciRun(live.target, 6, 50);
  } finally {
    await live.close();
  }
});
