/**
 * Opens (creating if needed) the store in a data directory:
 * `<dataDir>/store.sqlite` (WAL, synchronous=FULL) and `<dataDir>/messages/`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type Logger, silentLogger } from "../log.ts";
import { BlobFiles, fsyncDir } from "./blob-files.ts";
import { Core } from "./core.ts";
import { migrate } from "./migrations.ts";
import { SqliteStore } from "./sqlite-store.ts";

export { SqliteStore };

export interface OpenStoreOptions {
  log?: Logger;
}

export async function openStore(dataDir: string, opts: OpenStoreOptions = {}): Promise<SqliteStore> {
  const log = opts.log ?? silentLogger;
  const messagesDir = join(dataDir, "messages");
  mkdirSync(messagesDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, "store.sqlite"));
  try {
    db.pragma("journal_mode = WAL");
    // FULL: in WAL mode every commit fsyncs the WAL, so a commit survives power loss.
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    const { from, to } = migrate(db);
    if (from !== to) log.info({ from, to }, "store: schema migrated");
  } catch (err) {
    db.close();
    throw err;
  }
  // Make the database, WAL and messages/ entries durable.
  await fsyncDir(dataDir);
  return new SqliteStore(new Core(db, new BlobFiles(messagesDir), log));
}
