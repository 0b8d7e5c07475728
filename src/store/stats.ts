/**
 * Figures about a store for `chatrelay status`, read through a read-only
 * SQLite connection: beside a running relay (WAL lets a reader in while the
 * relay writes) or with the relay stopped. It never writes, migrates or
 * creates anything; a data dir without a store gives undefined.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

export interface QueueStats {
  /** Jobs waiting in the queue. */
  count: number;
  /** When the oldest job was queued (ms since the epoch). */
  oldestCreatedAt?: number;
}

export interface StoreStats {
  accounts: number;
  /** Messages in all mailboxes. */
  messages: number;
  /** Their sizes added up (a message stored for several recipients counts for each). */
  messageBytes: number;
  /** Per job queue name ("outbound", "push", …). */
  queues: Record<string, QueueStats>;
}

export function storeFile(dataDir: string): string {
  return join(dataDir, "store.sqlite");
}

export function readStoreStats(dataDir: string): StoreStats | undefined {
  const file = storeFile(dataDir);
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    // one read transaction: the figures belong to one moment
    return db.transaction(() => {
      const count = (sql: string) => (db.prepare(sql).get() as { n: number | null }).n ?? 0;
      const queues: Record<string, QueueStats> = {};
      const rows = db
        .prepare("SELECT queue, count(*) AS n, min(created_at) AS oldest FROM jobs GROUP BY queue")
        .all() as Array<{ queue: string; n: number; oldest: number | null }>;
      for (const r of rows) queues[r.queue] = { count: r.n, oldestCreatedAt: r.oldest ?? undefined };
      return {
        accounts: count("SELECT count(*) AS n FROM accounts"),
        messages: count("SELECT count(*) AS n FROM messages"),
        messageBytes: count("SELECT sum(size) AS n FROM messages"),
        queues,
      };
    })();
  } finally {
    db.close();
  }
}
