/** When the ACME client renews and how long it waits after a failure (src/tls/acme.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { renewalTime, retryDelay } from "../../src/tls/acme.ts";

const DAY = 24 * 3600_000;

test("renewal: 30 days before the end of a 90-day certificate, a third of the lifetime of a short one", () => {
  const start = new Date("2025-01-01T00:00:00Z");
  const ninety = { notBefore: start, notAfter: new Date(start.getTime() + 90 * DAY) };
  assert.equal(renewalTime(ninety), start.getTime() + 60 * DAY);
  const six = { notBefore: start, notAfter: new Date(start.getTime() + 6 * DAY) };
  assert.equal(renewalTime(six), start.getTime() + 4 * DAY);
  const year = { notBefore: start, notAfter: new Date(start.getTime() + 365 * DAY) };
  assert.equal(renewalTime(year), start.getTime() + 335 * DAY);
});

test("backoff: from an hour (5 minutes without a valid certificate), doubling, at most a day", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, true) / 60_000),
    [60, 120, 240, 480, 960, 1440],
  );
  assert.deepEqual(
    [1, 2, 3, 9, 100].map((n) => retryDelay(n, false) / 60_000),
    [5, 10, 20, 1280, 1440],
  );
});
