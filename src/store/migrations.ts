/**
 * Schema migrations. The schema version is SQLite's `PRAGMA user_version`; step
 * N (0-based) brings the database from version N to N + 1. The list is
 * append-only: never edit a step that has shipped, add a new one instead.
 */
import type { Database } from "better-sqlite3";

export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE accounts (
    address TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_login_day INTEGER NOT NULL DEFAULT 0
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE mailboxes (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL REFERENCES accounts(address) ON DELETE CASCADE,
    name TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL DEFAULT 1,
    special_use TEXT,
    subscribed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (address, name)
  ) STRICT;

  CREATE TABLE messages (
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '',
    internal_date INTEGER NOT NULL,
    size INTEGER NOT NULL,
    blob_id TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX messages_blob ON messages(blob_id);

  CREATE TABLE device_tokens (
    address TEXT NOT NULL REFERENCES accounts(address) ON DELETE CASCADE,
    token TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (address, token)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    key TEXT,
    payload TEXT NOT NULL,
    blob_id TEXT,
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  ) STRICT;
  CREATE UNIQUE INDEX jobs_queue_key ON jobs(queue, key) WHERE key IS NOT NULL;
  CREATE INDEX jobs_due ON jobs(queue, due_at, id);
  CREATE INDEX jobs_blob ON jobs(blob_id) WHERE blob_id IS NOT NULL;
  `,
  // 2: account creation kept to the day (UTC midnight), like last_login_day
  `
  UPDATE accounts SET created_at = created_at - (created_at % 86400) WHERE created_at % 86400 <> 0;
  `,
  // 3: small message bodies inside the database (inline-bodies.ts); blob_id names a row
  // here ("i-<hex>") or a file under messages/
  `
  CREATE TABLE bodies (
    id TEXT PRIMARY KEY,
    data BLOB NOT NULL
  ) STRICT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Applies the missing steps, each in its own transaction. Returns the versions before and after. */
export function migrate(db: Database): { from: number; to: number } {
  const from = schemaVersion(db);
  if (from > MIGRATIONS.length) {
    throw new Error(`database schema version ${from} is newer than this program (${MIGRATIONS.length})`);
  }
  for (let v = from; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      // user_version lives in the database header and is part of the transaction.
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return { from, to: MIGRATIONS.length };
}
