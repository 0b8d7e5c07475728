import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from "../../src/store/migrations.ts";
import { openStore } from "../../src/store/open.ts";
import { countBodies, countFiles, tempStore } from "./helpers.ts";

test("a new database is migrated to the current version, recorded in user_version", async () => {
  const t = await tempStore();
  try {
    await t.store.close();
    const db = new Database(join(t.dir, "store.sqlite"));
    try {
      assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
      assert.equal(schemaVersion(db), SCHEMA_VERSION);
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      // Opening at the current version changes nothing.
      const before = db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all();
      assert.deepEqual(migrate(db), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      assert.deepEqual(db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all(), before);
    } finally {
      db.close();
    }
  } finally {
    t.store = await openStore(t.dir);
    await t.cleanup();
  }
});

test("reopening keeps data; a database newer than the program is refused", async () => {
  const t = await tempStore();
  try {
    await t.store.createAccount("a@example.org", "h", 1);
    await t.reopen();
    assert.ok(await t.store.getAccount("a@example.org"));
    await t.store.close();
    const db = new Database(join(t.dir, "store.sqlite"));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assert.rejects(openStore(t.dir), /newer/);
    const db2 = new Database(join(t.dir, "store.sqlite"));
    db2.pragma(`user_version = ${SCHEMA_VERSION}`);
    db2.close();
  } finally {
    t.store = await openStore(t.dir);
    await t.cleanup();
  }
});

test("migration steps run in order from an empty database", () => {
  const db = new Database(":memory:");
  try {
    assert.deepEqual(migrate(db), { from: 0, to: SCHEMA_VERSION });
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    assert.deepEqual(tables, [
      "accounts",
      "bodies",
      "device_tokens",
      "jobs",
      "mailboxes",
      "messages",
      "meta",
    ]);
  } finally {
    db.close();
  }
});

test("migration 3 adds the inline bodies beside a version 2 database's body files", async () => {
  const t = await tempStore({ inlineMaxBytes: -1 });
  try {
    await t.store.createAccount("a@example.org", "h", 1);
    const inbox = (await t.store.getMailbox("a@example.org", "INBOX"))!;
    const old = await t.store.append(inbox.id, { data: Buffer.from("a body file from before") });
    await t.store.close();
    // version 2 was this schema without the bodies table
    const db = new Database(join(t.dir, "store.sqlite"));
    const schema = db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all();
    db.exec("DROP TABLE bodies");
    db.pragma("user_version = 2");
    db.close();
    t.store = await openStore(t.dir);
    assert.deepEqual(
      t.store.core.db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all(),
      schema,
    );
    assert.equal((await t.store.readBlob(old.blobId)).toString(), "a body file from before");
    const fresh = await t.store.append(inbox.id, { data: Buffer.from("inline") });
    assert.equal(countFiles(t.dir), 1);
    assert.equal(countBodies(t.dir), 2);
    assert.equal((await t.store.readBlob(fresh.blobId)).toString(), "inline");
    await t.store.expunge(inbox.id, [old.uid, fresh.uid]);
    assert.equal(countBodies(t.dir), 0);
  } finally {
    await t.cleanup();
  }
});
