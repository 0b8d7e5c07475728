/**
 * What the store keeps about people: deleted rows are overwritten (SQLite
 * secure_delete), account creation is kept only to the day, and UIDVALIDITY
 * does not date a mailbox to the second.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { openStore } from "../../src/store/open.ts";
import { tempStore } from "./helpers.ts";

const DAY = 86400;

test("secure_delete is on: a deleted account leaves no trace in the database file", async () => {
  const t = await tempStore();
  try {
    assert.equal(t.store.core.db.pragma("secure_delete", { simple: true }), 1);
    const who = "forgetme7@example.org";
    await t.store.createAccount(who, "{SHA512-CRYPT}$6$uniquehashvalue", 1000);
    await t.store.setDeviceToken(who, "openpgp:uniquetokenvalue", 1000);
    t.store.core.db.pragma("wal_checkpoint(TRUNCATE)");
    assert.ok(readFileSync(join(t.dir, "store.sqlite")).includes(who), "written to the file");
    await t.store.deleteAccount(who);
    t.store.core.db.pragma("wal_checkpoint(TRUNCATE)");
    const file = Buffer.concat([
      readFileSync(join(t.dir, "store.sqlite")),
      readFileSync(join(t.dir, "store.sqlite-wal")),
    ]);
    for (const s of [who, "uniquehashvalue", "uniquetokenvalue"]) assert.ok(!file.includes(s), s);
  } finally {
    await t.cleanup();
  }
});

test("secure_delete is on: an expunged inline body leaves no trace in the database file", async () => {
  const t = await tempStore();
  try {
    const who = "inline123@example.org";
    await t.store.createAccount(who, "h", 1000);
    const inbox = (await t.store.getMailbox(who, "INBOX"))!;
    // over a page, so that its tail lives in overflow pages
    const secret = `uniquebodyvalue ${"x".repeat(6000)} uniquebodytail`;
    const r = await t.store.append(inbox.id, { data: Buffer.from(secret) });
    t.store.core.db.pragma("wal_checkpoint(TRUNCATE)");
    const written = readFileSync(join(t.dir, "store.sqlite"));
    for (const s of ["uniquebodyvalue", "uniquebodytail"]) assert.ok(written.includes(s), `${s} written`);
    await t.store.expunge(inbox.id, [r.uid]);
    t.store.core.db.pragma("wal_checkpoint(TRUNCATE)");
    const file = Buffer.concat([
      readFileSync(join(t.dir, "store.sqlite")),
      readFileSync(join(t.dir, "store.sqlite-wal")),
    ]);
    for (const s of ["uniquebodyvalue", "uniquebodytail"]) assert.ok(!file.includes(s), s);
  } finally {
    await t.cleanup();
  }
});

test("created_at is the UTC midnight of the creation day", async () => {
  const t = await tempStore();
  try {
    const now = 1_900_000_000 + 12_345;
    const { account } = await t.store.createAccount("a@example.org", "h", now);
    assert.equal(account.createdAt, now - (now % DAY));
    assert.equal((await t.store.getAccount("a@example.org"))?.createdAt, now - (now % DAY));
  } finally {
    await t.cleanup();
  }
});

test("UIDVALIDITY of a new mailbox starts from today's midnight, not the current second", async () => {
  const t = await tempStore();
  try {
    const before = Math.floor(Date.now() / 1000);
    await t.store.createAccount("a@example.org", "h", before);
    const inbox = (await t.store.getMailbox("a@example.org", "INBOX"))!;
    assert.equal(inbox.uidValidity, before - (before % DAY));
    const other = await t.store.createMailbox("a@example.org", "Other");
    assert.equal(other.uidValidity, inbox.uidValidity + 1);
  } finally {
    await t.cleanup();
  }
});

test("the migration truncates existing created_at values to the day", async () => {
  const t = await tempStore();
  try {
    await t.store.close();
    // A database as version 1 left it: creation times to the second.
    rmSync(join(t.dir, "store.sqlite"));
    rmSync(join(t.dir, "store.sqlite-wal"), { force: true });
    rmSync(join(t.dir, "store.sqlite-shm"), { force: true });
    const db = new Database(join(t.dir, "store.sqlite"));
    db.exec(MIGRATIONS[0]!);
    db.prepare("INSERT INTO accounts (address, password_hash, created_at) VALUES (?, 'h', ?)").run(
      "old@example.org",
      1_900_000_000 + 4_321,
    );
    db.pragma("user_version = 1");
    db.close();
    t.store = await openStore(t.dir);
    assert.ok(MIGRATIONS.length >= 2);
    assert.equal(
      (await t.store.getAccount("old@example.org"))?.createdAt,
      1_900_000_000 - (1_900_000_000 % DAY),
    );
  } finally {
    await t.cleanup();
  }
});
