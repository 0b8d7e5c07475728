import assert from "node:assert/strict";
import { test } from "node:test";
import { BODY_KINDS, countBodies, msg, tempStore } from "./helpers.ts";

test("createAccount creates the account and its default mailboxes", async () => {
  const t = await tempStore();
  try {
    const { account, created } = await t.store.createAccount(
      "Alice@Example.org",
      "{SHA512-CRYPT}$6$x",
      86400 * 2 + 1000,
    );
    assert.equal(created, true);
    assert.deepEqual(account, {
      address: "alice@example.org",
      passwordHash: "{SHA512-CRYPT}$6$x",
      createdAt: 86400 * 2, // day granularity
      lastLoginDay: 0,
    });
    assert.deepEqual(await t.store.getAccount("alice@example.org"), account);
    assert.equal(await t.store.getAccount("bob@example.org"), undefined);
    const boxes = await t.store.listMailboxes("alice@example.org");
    assert.deepEqual(
      boxes.map((b) => [b.name, b.specialUse, b.subscribed, b.uidNext]),
      [
        ["INBOX", null, true, 1],
        ["Drafts", "\\Drafts", true, 1],
        ["Junk", "\\Junk", true, 1],
        ["Sent", "\\Sent", true, 1],
        ["Trash", "\\Trash", true, 1],
      ],
    );
    await t.store.setLastLoginDay("alice@example.org", 86400 * 3);
    assert.equal((await t.store.getAccount("alice@example.org"))?.lastLoginDay, 86400 * 3);
    assert.deepEqual(
      (await t.store.listAccounts()).map((a) => a.address),
      ["alice@example.org"],
    );
  } finally {
    await t.cleanup();
  }
});

test("concurrent createAccount of one address: exactly one wins, password never overwritten", async () => {
  const t = await tempStore();
  try {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.store.createAccount("race@example.org", `hash-${i}`, 1000 + i)),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    const winner = results.find((r) => r.created)!.account;
    for (const r of results) assert.deepEqual(r.account, winner);
    const again = await t.store.createAccount("race@example.org", "other", 5000);
    assert.equal(again.created, false);
    assert.equal(again.account.passwordHash, winner.passwordHash);
    assert.equal((await t.store.listMailboxes("race@example.org")).length, 5);
  } finally {
    await t.cleanup();
  }
});

for (const [kind, opts] of BODY_KINDS)
  test(`deleteAccount removes mailboxes, messages, tokens and unshared bodies (${kind})`, async () => {
    const t = await tempStore(opts);
    try {
      await t.store.createAccount("a@example.org", "h", 1);
      await t.store.createAccount("b@example.org", "h", 1);
      const inboxA = (await t.store.getMailbox("a@example.org", "INBOX"))!;
      const own = await t.store.append(inboxA.id, msg("only for a"));
      const shared = await t.store.deliver(["a@example.org", "b@example.org"], msg("for both"));
      await t.store.setDeviceToken("a@example.org", "tok", 5);
      assert.equal(countBodies(t.dir), 2);

      await t.store.deleteAccount("a@example.org");
      assert.equal(await t.store.getAccount("a@example.org"), undefined);
      assert.deepEqual(await t.store.listMailboxes("a@example.org"), []);
      assert.deepEqual(await t.store.getDeviceTokens("a@example.org"), []);
      assert.deepEqual(await t.store.listMessages(inboxA.id), []);
      assert.equal(countBodies(t.dir), 1);
      await assert.rejects(t.store.readBlob(own.blobId), { code: "NONEXISTENT" });
      const b = shared.get("b@example.org")!;
      assert.equal((await t.store.readBlob(b.blobId)).toString(), "for both");
    } finally {
      await t.cleanup();
    }
  });

test("device tokens: add, refresh, list, delete", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount("a@example.org", "h", 1);
    await t.store.setDeviceToken("a@example.org", "t2", 10);
    await t.store.setDeviceToken("a@example.org", "t1", 11);
    await t.store.setDeviceToken("a@example.org", "t2", 12);
    assert.deepEqual(await t.store.getDeviceTokens("a@example.org"), [
      { token: "t1", updatedAt: 11 },
      { token: "t2", updatedAt: 12 },
    ]);
    await t.store.deleteDeviceToken("a@example.org", "t1");
    assert.deepEqual(await t.store.getDeviceTokens("a@example.org"), [{ token: "t2", updatedAt: 12 }]);
    await assert.rejects(t.store.setDeviceToken("nobody@example.org", "t", 1), { code: "NONEXISTENT" });
  } finally {
    await t.cleanup();
  }
});
