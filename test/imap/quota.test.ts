/** QUOTA (RFC 9208): STORAGE in KiB from store.usedBytes and config.max_mailbox_size. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap({ config: { max_mailbox_size: 10 * 1024 * 1024 } });
});
after(() => h.close());

test("GETQUOTAROOT and GETQUOTA report usage and limit", async () => {
  const user = await h.newUser();
  await h.deliver([user], message({ body: "x".repeat(5000) }));
  await h.deliver([user], message({ body: "y".repeat(5000) }));
  const used = Math.floor((await h.store.usedBytes(user)) / 1024);
  assert.ok(used >= 9 && used <= 10);
  const c = await loggedIn(h.port, user, h.password);
  assert.deepEqual(await c.command("a", 'GETQUOTAROOT "INBOX"'), [
    '* QUOTAROOT INBOX "User quota"\r\n',
    `* QUOTA "User quota" (STORAGE ${used} 10240)\r\n`,
    "a OK Getquotaroot completed.\r\n",
  ]);
  assert.deepEqual(await c.command("b", 'GETQUOTA "User quota"'), [
    `* QUOTA "User quota" (STORAGE ${used} 10240)\r\n`,
    "b OK Getquotaroot completed.\r\n".replace("Getquotaroot", "Getquota"),
  ]);
  assert.deepEqual(await c.command("c", 'GETQUOTA "other"'), [
    "c NO [NONEXISTENT] Quota root doesn't exist.\r\n",
  ]);
  assert.deepEqual(await c.command("d", 'GETQUOTAROOT "Nope"'), [
    "d NO [NONEXISTENT] Mailbox doesn't exist.\r\n",
  ]);
  assert.deepEqual(await c.command("e", 'SETQUOTA "User quota" (STORAGE 1)'), [
    "e NO [NOPERM] Quota is set by the relay's configuration.\r\n",
  ]);
  c.close();
});

test("imapflow getQuota", async () => {
  const user = await h.newUser();
  const client = await h.imapflow(user);
  try {
    const q = await client.getQuota("INBOX");
    assert.ok(q);
    assert.equal(q.quotaRoot, "User quota");
    assert.equal(q.storage?.limit, 10 * 1024 * 1024);
    assert.equal(q.storage?.usage, 0);
  } finally {
    await client.logout();
  }
});
