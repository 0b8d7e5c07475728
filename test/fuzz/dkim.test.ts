/**
 * Short fuzzing run of the DKIM verifier on signed, then mutated messages
 * (targets/dkim.ts for the properties); `npm run fuzz -- dkim` runs it longer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ciRun } from "./lib/ci.ts";
import { dkimTarget } from "./targets/dkim.ts";

test("fuzz: the DKIM verifier never accepts a changed signed part", async () => {
  const target = await dkimTarget();
  // The unmutated signed vectors verify (the oracle's accepted branch is reached).
  const signed = target.corpus.filter((c) => c.name.endsWith("(signed)"));
  assert.ok(signed.length >= 9);
  for (const c of signed) assert.ok(await target.accepts(c.data), c.name);
  // Findings kept as regressions are refused: a bare CR after the body's last line, NBSP in
  // a signed field (mailauth compresses both like whitespace).
  for (const name of [
    "finding-trailing-bare-cr.eml",
    "finding-trailing-cr-crlf.eml",
    "finding-nbsp-in-signed-field.eml",
  ]) {
    const c = target.corpus.find((e) => e.name === name);
    assert.ok(c && !(await target.accepts(c.data)), name);
  }
  await ciRun(target, 10, 200);
});
