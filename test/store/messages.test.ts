import assert from "node:assert/strict";
import { test } from "node:test";
import { BODY_KINDS, countBodies, countFiles, msg, tempStore, walCommits } from "./helpers.ts";

const A = "a@example.org";
const B = "b@example.org";

test("UIDs strictly increase across append, deliver, copy, move and reopen", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    await t.store.createAccount(B, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const other = await t.store.createMailbox(A, "Other");
    const uids: number[] = [];
    uids.push((await t.store.append(inbox.id, msg("1"))).uid);
    const delivered = await t.store.deliver([A, "UNKNOWN@example.org", B.toUpperCase()], msg("2"));
    assert.deepEqual([...delivered.keys()].sort(), [A, B]);
    assert.equal(delivered.get(A)!.blobId, delivered.get(B)!.blobId);
    uids.push(delivered.get(A)!.uid);
    await t.store.append(other.id, msg("3"));
    await t.store.append(other.id, msg("4"));
    for (const [, newUid] of await t.store.copy(other.id, [2, 1], inbox.id)) uids.push(newUid);
    await t.reopen();
    for (const [, newUid] of await t.store.move(other.id, [1], inbox.id)) uids.push(newUid);
    await t.store.expunge(inbox.id, [uids.at(-1)!]);
    await t.reopen();
    uids.push((await t.store.append(inbox.id, msg("5"))).uid);
    assert.deepEqual(uids, [1, 2, 3, 4, 5, 6]);
    assert.equal((await t.store.getMailbox(A, "INBOX"))!.uidNext, 7);
    assert.equal((await t.store.getMailbox(B, "INBOX"))!.uidNext, 2);
    // Messages copied in UID order.
    const list = await t.store.listMessages(inbox.id);
    assert.deepEqual(
      await Promise.all(list.map(async (m) => [m.uid, (await t.store.readBlob(m.blobId)).toString()])),
      [
        [1, "1"],
        [2, "2"],
        [3, "3"],
        [4, "4"],
        [6, "5"],
      ],
    );
    const files = countBodies(t.dir);
    assert.deepEqual(await t.store.deliver(["nobody@example.org"], msg("x")), new Map());
    assert.equal(countBodies(t.dir), files);
  } finally {
    await t.cleanup();
  }
});

test("flags: add, remove, replace", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const r = await t.store.append(inbox.id, {
      data: Buffer.from("x"),
      flags: ["\\Seen", "$Label", "\\seen"],
    });
    assert.deepEqual(r.flags, ["\\Seen", "$Label"]);
    await t.store.append(inbox.id, msg("y"));

    let out = await t.store.storeFlags(inbox.id, [2, 1, 99], "add", ["\\Flagged", "\\SEEN"]);
    assert.deepEqual(
      out.map((m) => [m.uid, m.flags]),
      [
        [1, ["\\Seen", "$Label", "\\Flagged"]],
        [2, ["\\Flagged", "\\SEEN"]],
      ],
    );
    out = await t.store.storeFlags(inbox.id, [1], "remove", ["\\seen", "nothing"]);
    assert.deepEqual(out[0]!.flags, ["$Label", "\\Flagged"]);
    out = await t.store.storeFlags(inbox.id, [1], "replace", ["\\Answered"]);
    assert.deepEqual(out[0]!.flags, ["\\Answered"]);
    await t.reopen();
    assert.deepEqual((await t.store.getMessage(inbox.id, 1))!.flags, ["\\Answered"]);
    assert.deepEqual((await t.store.getMessage(inbox.id, 2))!.flags, ["\\Flagged", "\\SEEN"]);
    assert.equal(await t.store.getMessage(inbox.id, 3), undefined);
  } finally {
    await t.cleanup();
  }
});

for (const [kind, opts] of BODY_KINDS)
  test(`expunge removes rows and bodies no longer referenced (${kind})`, async () => {
    const t = await tempStore(opts);
    try {
      await t.store.createAccount(A, "h", 1);
      const inbox = (await t.store.getMailbox(A, "INBOX"))!;
      const trash = (await t.store.getMailbox(A, "Trash"))!;
      const r1 = await t.store.append(inbox.id, msg("one"));
      const r2 = await t.store.append(inbox.id, msg("two"));
      await t.store.copy(inbox.id, [2], trash.id);
      assert.equal(countBodies(t.dir), 2);
      assert.deepEqual(await t.store.expunge(inbox.id, [1, 2, 3]), [1, 2]);
      assert.deepEqual(await t.store.listMessages(inbox.id), []);
      assert.equal(countBodies(t.dir), 1);
      await assert.rejects(t.store.readBlob(r1.blobId), { code: "NONEXISTENT" });
      assert.equal((await t.store.readBlob(r2.blobId)).toString(), "two");
      assert.deepEqual(await t.store.expunge(trash.id, [1]), [1]);
      assert.equal(countBodies(t.dir), 0);
    } finally {
      await t.cleanup();
    }
  });

test("bodies up to the threshold are rows in the database, larger ones files; both read back", async () => {
  const t = await tempStore({ inlineMaxBytes: 100 });
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const small = Buffer.alloc(100, "s");
    const large = Buffer.alloc(101, "l");
    const rs = await t.store.append(inbox.id, { data: small });
    assert.equal(countFiles(t.dir), 0);
    assert.equal(countBodies(t.dir), 1);
    const rl = (await t.store.deliver([A], { data: large })).get(A)!;
    assert.equal(countFiles(t.dir), 1);
    assert.equal(countBodies(t.dir), 2);
    assert.notEqual(rs.blobId, rl.blobId);
    await t.reopen();
    assert.deepEqual(await t.store.readBlob(rs.blobId), small);
    assert.deepEqual(await t.store.readBlob(rl.blobId), large);
    // ids are never reused: a stale record finds nothing, not another body
    await t.store.expunge(inbox.id, [rs.uid]);
    const again = await t.store.append(inbox.id, { data: small });
    assert.notEqual(again.blobId, rs.blobId);
    await assert.rejects(t.store.readBlob(rs.blobId), { code: "NONEXISTENT" });
    await assert.rejects(t.store.readBlob("i-not-an-id"), { code: "NONEXISTENT" });
  } finally {
    await t.cleanup();
  }
});

test("an expunge and the removal of its inline body are one transaction", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const r = await t.store.append(inbox.id, msg("gone with its row"));
    assert.equal(countBodies(t.dir), 1);
    const commits = walCommits(t.dir);
    await t.store.expunge(inbox.id, [r.uid]);
    assert.equal(walCommits(t.dir), commits + 1, "one commit");
    assert.equal(countBodies(t.dir), 0);
    await assert.rejects(t.store.readBlob(r.blobId), { code: "NONEXISTENT" });
  } finally {
    await t.cleanup();
  }
});

test("copy and move keep flags, date, size and the body file", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const sent = (await t.store.getMailbox(A, "Sent"))!;
    const r = await t.store.append(inbox.id, {
      data: Buffer.from("hello"),
      flags: ["\\Seen"],
      internalDate: 1234,
    });
    assert.deepEqual(await t.store.copy(inbox.id, [1, 5], sent.id), [[1, 1]]);
    const copied = (await t.store.getMessage(sent.id, 1))!;
    assert.deepEqual({ ...copied, mailboxId: inbox.id }, r);
    assert.deepEqual(await t.store.move(inbox.id, [1], sent.id), [[1, 2]]);
    assert.deepEqual(await t.store.listMessages(inbox.id), []);
    assert.deepEqual(
      (await t.store.listMessages(sent.id)).map((m) => [m.uid, m.blobId, m.internalDate, m.size, m.flags]),
      [
        [1, r.blobId, 1234, 5, ["\\Seen"]],
        [2, r.blobId, 1234, 5, ["\\Seen"]],
      ],
    );
    await assert.rejects(t.store.copy(inbox.id, [1], 999999), { code: "NONEXISTENT" });
    await assert.rejects(t.store.append(999999, msg("x")), { code: "NONEXISTENT" });
    assert.equal(await t.store.usedBytes(A), 10);
    assert.deepEqual(
      (await t.store.listAccountMessages(A)).map((m) => [m.mailboxId, m.uid]),
      [
        [sent.id, 1],
        [sent.id, 2],
      ],
    );
  } finally {
    await t.cleanup();
  }
});

test("group commit: 32 concurrent appends share batches and all are readable", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const before = t.store.commitStats;
    const bodies = Array.from({ length: 32 }, (_, i) => Buffer.from(`message ${i} `.repeat(100)));
    const recs = await Promise.all(bodies.map((data) => t.store.append(inbox.id, { data })));
    const after = t.store.commitStats;
    assert.deepEqual(
      recs.map((r) => r.uid).sort((a, b) => a - b),
      Array.from({ length: 32 }, (_, i) => i + 1),
    );
    assert.ok(after.batches - before.batches < 32, `batches ${after.batches - before.batches}`);
    assert.ok(after.maxBatch > 1);
    await t.reopen();
    for (let i = 0; i < 32; i++) {
      const rec = (await t.store.getMessage(inbox.id, recs[i]!.uid))!;
      assert.deepEqual(await t.store.readBlob(rec.blobId), bodies[i]);
    }
  } finally {
    await t.cleanup();
  }
});

test("group commit: writes submitted in one turn form one transaction", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    await t.store.append(inbox.id, msg("x"));
    const before = t.store.commitStats;
    const out = await Promise.all(
      Array.from({ length: 32 }, (_, i) => t.store.storeFlags(inbox.id, [1], "add", [`k${i}`])),
    );
    const after = t.store.commitStats;
    assert.equal(after.batches - before.batches, 1);
    assert.equal(out[31]![0]!.flags.length, 32);
    assert.equal(after.dirSyncs, before.dirSyncs);
  } finally {
    await t.cleanup();
  }
});

test("a failing write in a batch does not fail the others", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    // Writes without files, submitted in one turn: one batch, one transaction.
    const before = t.store.commitStats;
    const results = await Promise.allSettled([
      t.store.createMailbox(A, "one"),
      t.store.createMailbox(A, "INBOX"),
      t.store.createMailbox(A, "two"),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    const after = t.store.commitStats;
    assert.equal(after.ops - before.ops, 3);
    assert.equal(after.batches - before.batches, 1, "the three writes shared a transaction");
    assert.ok(await t.store.getMailbox(A, "one"));
    assert.ok(await t.store.getMailbox(A, "two"));
    // Appends (their files are written first) beside a failing write also commit.
    const mixed = await Promise.allSettled([
      t.store.append(inbox.id, msg("ok 1")),
      t.store.createMailbox(A, "INBOX"),
      t.store.append(inbox.id, msg("ok 2")),
    ]);
    assert.deepEqual(
      mixed.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.equal((await t.store.listMessages(inbox.id)).length, 2);
  } finally {
    await t.cleanup();
  }
});

test("listMessages on 10k messages", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount(A, "h", 1);
    const inbox = (await t.store.getMailbox(A, "INBOX"))!;
    const r = await t.store.append(inbox.id, msg("x"));
    // Doubling by copying the mailbox into itself: 2^14 = 16384 messages.
    for (let i = 0; i < 14; i++) {
      const uids = (await t.store.listMessages(inbox.id)).map((m) => m.uid);
      await t.store.copy(inbox.id, uids, inbox.id);
    }
    const list = await t.store.listMessages(inbox.id);
    assert.equal(list.length, 16384);
    assert.equal(list.at(-1)!.uid, 16384);
    for (let i = 1; i < list.length; i++) assert.ok(list[i]!.uid > list[i - 1]!.uid);
    assert.ok(list.every((m) => m.blobId === r.blobId));
  } finally {
    await t.cleanup();
  }
});
