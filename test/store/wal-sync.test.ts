/**
 * Commits run with synchronous=NORMAL and the WAL is fsynced on the threadpool
 * (src/store/wal-sync.ts): a batch's promises settle only once that fsync is
 * done, a failed fsync is nobody's "stored", and the store really runs so.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { GroupCommit } from "../../src/store/group-commit.ts";
import { openStore } from "../../src/store/open.ts";

function memoryDb(): Database.Database {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (x INTEGER)");
  return db;
}

test("a batch settles only after the durable hook, before the files of its commit are removed", async () => {
  const db = memoryDb();
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const gc = new GroupCommit(db, {
    durable: async () => {
      events.push("durable started");
      await gate;
      events.push("durable done");
    },
    afterCommit: async () => {
      events.push("after commit");
    },
  });
  const write = gc
    .submit(() => db.prepare("INSERT INTO t VALUES (1)").run())
    .then(() => events.push("settled"));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ["durable started"], "nothing settles while the fsync runs");
  assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 1, "committed already");
  release();
  await write;
  assert.deepEqual(events, ["durable started", "durable done", "after commit", "settled"]);
  db.close();
});

test("a failed fsync rejects the batch, reports it, and removes nothing", async () => {
  const db = memoryDb();
  const reported: unknown[] = [];
  let removed = false;
  const gc = new GroupCommit(db, {
    durable: () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" })),
    afterCommit: async () => {
      removed = true;
    },
    onCorrupt: (err) => reported.push(err),
  });
  await assert.rejects(
    gc.submit(() => db.prepare("INSERT INTO t VALUES (2)").run()),
    /EIO/,
  );
  assert.equal(reported.length, 1);
  assert.equal(removed, false);
  db.close();
});

test("the store commits with synchronous=NORMAL and fsyncs its WAL once per batch", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-walsync-"));
  const store = await openStore(dir);
  try {
    const core = (
      store as unknown as { core: { db: Database.Database; wal: { syncs: number }; gc: GroupCommit } }
    ).core;
    assert.equal(core.db.pragma("synchronous", { simple: true }), 1, "NORMAL");
    const before = core.wal.syncs;
    const batches = core.gc.stats.batches;
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.createAccount(`u${i}@example.org`, "{SHA512-CRYPT}x", 0)),
    );
    assert.equal(core.gc.stats.batches - batches, 1, "one batch");
    assert.equal(core.wal.syncs - before, 1, "one WAL fsync for it");
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
