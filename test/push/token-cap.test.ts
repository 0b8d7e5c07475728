/**
 * Push tokens per account are capped (MAX_TOKENS_PER_ACCOUNT): a new token set
 * through IMAP SETMETADATA (RFC 5464) beyond the cap drops the least recently
 * set one, so one account cannot grow the store or fan out push requests.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MAX_TOKENS_PER_ACCOUNT } from "../../src/push/schedule.ts";
import { type ImapHarness, startImap } from "../imap/support/harness.ts";
import { loggedIn } from "../imap/support/raw-client.ts";

let h: ImapHarness;
before(async () => {
  h = await startImap();
});
after(() => h.close());

const tokensOf = async (user: string) => (await h.store.getDeviceTokens(user)).map((t) => t.token).sort();

test("SETMETADATA beyond the cap drops the least recently set token", async () => {
  assert.ok(MAX_TOKENS_PER_ACCOUNT >= 4 && MAX_TOKENS_PER_ACCOUNT <= 64);
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  // A full set, oldest first (earlier SETMETADATA days).
  const now = Math.floor(Date.now() / 1000);
  const full = Array.from(
    { length: MAX_TOKENS_PER_ACCOUNT },
    (_, i) => `openpgp:T${String(i).padStart(2, "0")}`,
  );
  for (const [i, t] of full.entries()) await h.store.setDeviceToken(user, t, now - (100 - i) * 3600);
  // A device refreshes its token: it becomes the most recent, nothing is dropped.
  assert.deepEqual(await c.command("a", 'SETMETADATA "INBOX" (/private/devicetoken "openpgp:T00")'), [
    "a OK Setmetadata completed.\r\n",
  ]);
  assert.deepEqual(await tokensOf(user), full);
  // A new token: the least recently set (T01 now) goes.
  assert.deepEqual(await c.command("b", 'SETMETADATA "INBOX" (/private/devicetoken "openpgp:NEW")'), [
    "b OK Setmetadata completed.\r\n",
  ]);
  const after1 = await tokensOf(user);
  assert.equal(after1.length, MAX_TOKENS_PER_ACCOUNT);
  assert.ok(after1.includes("openpgp:NEW"));
  assert.ok(after1.includes("openpgp:T00"));
  assert.ok(!after1.includes("openpgp:T01"));
  // A flood of new tokens keeps the count at the cap, the latest always kept.
  for (let i = 0; i < MAX_TOKENS_PER_ACCOUNT + 8; i++) {
    const r = await c.command(`f${i}`, `SETMETADATA "INBOX" (/private/devicetoken "openpgp:FLOOD${i}")`);
    assert.match(r[r.length - 1]!, /OK/);
    const now = await tokensOf(user);
    assert.ok(now.length <= MAX_TOKENS_PER_ACCOUNT, `${now.length} tokens`);
    assert.ok(now.includes(`openpgp:FLOOD${i}`));
  }
  const r = await c.command("g", 'GETMETADATA "INBOX" (/private/devicetoken)');
  assert.equal(r[0]!.split(" ").length - 4, MAX_TOKENS_PER_ACCOUNT, r[0]);
  c.close();
});
