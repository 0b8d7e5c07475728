import assert from "node:assert/strict";
import { test } from "node:test";
import { countBodies, msg, tempStore } from "./helpers.ts";

const A = "a@example.org";

test("INBOX in any case; create, subscribe, delete", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "InBoX"))!;
    assert.equal(inbox.name, "INBOX");
    assert.deepEqual(await t.store.getMailboxById(inbox.id), inbox);
    await assert.rejects(t.store.createMailbox(A, "inbox"), { code: "ALREADYEXISTS" });
    await assert.rejects(t.store.createMailbox(A, "Sent"), { code: "ALREADYEXISTS" });
    await assert.rejects(t.store.createMailbox(A, "a//b"), { code: "CANNOT" });

    // RFC 3501 §6.3.3: trailing delimiter dropped, superiors created.
    const created = await t.store.createMailbox(A, "x/y/", null);
    assert.equal(created.name, "x/y");
    assert.equal(created.subscribed, false);
    assert.ok(await t.store.getMailbox(A, "x"));
    assert.equal(await t.store.getMailbox(A, "X/y"), undefined);

    await t.store.setSubscribed(A, "x/y", true);
    assert.equal((await t.store.getMailbox(A, "x/y"))?.subscribed, true);
    await assert.rejects(t.store.setSubscribed(A, "nope", true), { code: "NONEXISTENT" });

    await assert.rejects(t.store.deleteMailbox(A, "inbox"), { code: "CANNOT" });
    await assert.rejects(t.store.deleteMailbox(A, "nope"), { code: "NONEXISTENT" });
    const m = (await t.store.getMailbox(A, "x/y"))!;
    await t.store.append(m.id, msg("in x/y"));
    await t.store.deleteMailbox(A, "x/y");
    assert.equal(await t.store.getMailbox(A, "x/y"), undefined);
    assert.deepEqual(await t.store.listMessages(m.id), []);
    assert.equal(countBodies(t.dir), 0);
  } finally {
    await t.cleanup();
  }
});

test("UIDVALIDITY is stable across reopen and new after delete + re-create", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const first = await t.store.createMailbox(A, "Archive");
    await t.reopen();
    assert.equal((await t.store.getMailbox(A, "Archive"))?.uidValidity, first.uidValidity);
    await t.store.deleteMailbox(A, "Archive");
    const second = await t.store.createMailbox(A, "Archive");
    assert.ok(second.uidValidity > first.uidValidity);
    await t.reopen();
    await t.store.deleteMailbox(A, "Archive");
    const third = await t.store.createMailbox(A, "Archive");
    assert.ok(third.uidValidity > second.uidValidity);

    // Account deleted and created again: INBOX gets a new UIDVALIDITY too.
    const inbox1 = (await t.store.getMailbox(A, "INBOX"))!;
    await t.store.deleteAccount(A);
    await t.store.createAccount(A, "h", 2);
    const inbox2 = (await t.store.getMailbox(A, "INBOX"))!;
    assert.ok(inbox2.uidValidity > inbox1.uidValidity);
  } finally {
    await t.cleanup();
  }
});

test("rename moves children and keeps messages and UIDVALIDITY", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const a = await t.store.createMailbox(A, "a");
    const ab = await t.store.createMailbox(A, "a/b");
    await t.store.createMailbox(A, "ab"); // not a child of "a"
    const rec = await t.store.append(ab.id, msg("child"));

    await assert.rejects(t.store.renameMailbox(A, "nope", "z"), { code: "NONEXISTENT" });
    await assert.rejects(t.store.renameMailbox(A, "a", "Sent"), { code: "ALREADYEXISTS" });
    await assert.rejects(t.store.renameMailbox(A, "a", "a/b/c"), { code: "CANNOT" });

    await t.store.renameMailbox(A, "a", "n/m");
    const names = (await t.store.listMailboxes(A)).map((b) => b.name);
    assert.deepEqual(names, ["INBOX", "Drafts", "Junk", "Sent", "Trash", "ab", "n", "n/m", "n/m/b"]);
    const moved = (await t.store.getMailbox(A, "n/m/b"))!;
    assert.equal(moved.id, ab.id);
    assert.equal(moved.uidValidity, ab.uidValidity);
    assert.equal((await t.store.getMailbox(A, "n/m"))?.uidValidity, a.uidValidity);
    assert.deepEqual(await t.store.listMessages(moved.id), [rec]);
  } finally {
    await t.cleanup();
  }
});

test("renaming INBOX moves its messages to a new mailbox and leaves INBOX empty", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const r1 = await t.store.append(inbox.id, msg("one", ["\\Seen"]));
    const r2 = await t.store.append(inbox.id, msg("two"));
    await t.store.renameMailbox(A, "inbox", "Old");
    const old = (await t.store.getMailbox(A, "Old"))!;
    const inboxAfter = (await t.store.getMailbox(A, "INBOX"))!;
    assert.equal(inboxAfter.id, inbox.id);
    assert.equal(inboxAfter.uidValidity, inbox.uidValidity);
    assert.equal(inboxAfter.uidNext, 3);
    assert.deepEqual(await t.store.listMessages(inbox.id), []);
    const moved = await t.store.listMessages(old.id);
    assert.deepEqual(
      moved.map((m) => [m.uid, m.flags, m.blobId]),
      [
        [1, ["\\Seen"], r1.blobId],
        [2, [], r2.blobId],
      ],
    );
    assert.equal((await t.store.readBlob(moved[1]!.blobId)).toString(), "two");
  } finally {
    await t.cleanup();
  }
});
