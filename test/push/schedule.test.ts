import assert from "node:assert/strict";
import { test } from "node:test";
import { DROP_DEADLINE_MS, nextTry, tokenIsValid } from "../../src/push/schedule.ts";

test("retries at 8^n seconds, none after the fourth retry", () => {
  const first = 1_000_000;
  assert.equal(nextTry(1, first, first), first + 8_000);
  assert.equal(nextTry(2, first, first + 8_000), first + 8_000 + 64_000);
  assert.equal(nextTry(3, first, first), first + 512_000);
  assert.equal(nextTry(4, first, first), first + 4_096_000);
  assert.equal(nextTry(5, first, first), undefined);
  assert.equal(nextTry(1, first, first + DROP_DEADLINE_MS - 8_000), first + DROP_DEADLINE_MS);
  assert.equal(nextTry(1, first, first + DROP_DEADLINE_MS - 7_999), undefined);
});

test("tokens are valid for 90 days and at most 60 s in the future", () => {
  const now = 1_800_000_000_000;
  const s = now / 1000;
  assert.equal(tokenIsValid(s, now), true);
  assert.equal(tokenIsValid(s - 90 * 86400 + 1, now), true);
  assert.equal(tokenIsValid(s - 90 * 86400, now), false);
  assert.equal(tokenIsValid(s + 60, now), true);
  assert.equal(tokenIsValid(s + 61, now), false);
});
