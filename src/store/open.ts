/**
 * Opens (creating if needed) the store in a data directory:
 * `<dataDir>/store.sqlite` (WAL, synchronous=NORMAL plus an fsync of the WAL after
 * every commit, wal-sync.ts; secure_delete; small message bodies
 * inside, inline-bodies.ts) and `<dataDir>/messages/` (the larger bodies).
 * The database and its -wal/-shm files are 0600 whatever the umask: SQLite
 * creates -wal and -shm with the mode of the database file, so the database is
 * created (or tightened) before SQLite opens it.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type Logger, silentLogger } from "../log.ts";
import { BlobFiles, fsyncDir } from "./blob-files.ts";
import { Core } from "./core.ts";
import { migrate } from "./migrations.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { WalSync } from "./wal-sync.ts";

export { SqliteStore };

export interface OpenStoreOptions {
  log?: Logger;
  /** Called when SQLite reports the database file damaged (the process should restart). */
  onCorrupt?: (err: unknown) => void;
  /** Largest body kept inside SQLite (default INLINE_MAX_BYTES); for tests and benchmarks. */
  inlineMaxBytes?: number;
}

export async function openStore(dataDir: string, opts: OpenStoreOptions = {}): Promise<SqliteStore> {
  const log = opts.log ?? silentLogger;
  const messagesDir = join(dataDir, "messages");
  mkdirSync(messagesDir, { recursive: true, mode: 0o700 });
  chmodSync(messagesDir, 0o700);
  const file = join(dataDir, "store.sqlite");
  for (const f of [file, `${file}-wal`, `${file}-shm`]) privateFile(f, f === file);
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    // NORMAL: a commit does not fsync the WAL on the event loop; WalSync does it
    // on the threadpool before the batch is acknowledged (same durability as FULL).
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    // Deleted rows (accounts, addresses, tokens) are overwritten with zeros, not left in free pages.
    db.pragma("secure_delete = ON");
    const { from, to } = migrate(db);
    if (from !== to) log.info({ from, to }, "store: schema migrated");
  } catch (err) {
    db.close();
    throw err;
  }
  // Make the database, WAL and messages/ entries durable.
  await fsyncDir(dataDir);
  const wal = new WalSync(`${file}-wal`);
  return new SqliteStore(
    new Core(db, new BlobFiles(messagesDir), log, opts.onCorrupt, opts.inlineMaxBytes, wal),
  );
}

/** Makes `path` mode 0600: creates it (if `create`) or tightens an existing one. */
function privateFile(path: string, create: boolean): void {
  try {
    if (create) closeSync(openSync(path, "a", 0o600));
    chmodSync(path, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
