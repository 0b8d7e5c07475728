/**
 * Group commit: write operations queue up here; the operations that are ready
 * in the same turn of the event loop form one batch. A batch costs one fsync
 * per touched directory (files were already fsynced by their writers, in
 * parallel on the libuv threadpool) and one SQLite transaction, whose commit
 * is one WAL fsync (the `durable` hook: wal-sync.ts, on the threadpool). Only
 * then are the promises settled.
 * Small message bodies are rows of that transaction (inline-bodies.ts): a batch
 * of them costs the WAL fsync alone.
 *
 * Each operation runs in its own savepoint, so a failing operation rolls back
 * alone and rejects alone; the rest of the batch commits.
 */
import type { Database, Transaction } from "better-sqlite3";
import { fsyncDir } from "./blob-files.ts";
import { isCorruption } from "./corruption.ts";

interface Pending {
  run: () => unknown;
  dirs: readonly string[];
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitHooks {
  /** Runs inside the batch transaction after all operations (e.g. find unreferenced files). */
  beforeCommit?: () => void;
  /**
   * Runs after the transaction committed (true) or failed as a whole (false);
   * the batch's promises settle after it (e.g. once unreferenced files are gone).
   */
  afterCommit?: (committed: boolean) => Promise<void>;
  /**
   * Makes a committed transaction durable (fsyncs the WAL) before anything
   * else happens to the batch. Without it, the commit itself must be durable
   * (synchronous=FULL).
   */
  durable?: () => Promise<void>;
  /** A batch failed because the database file is damaged (corruption.ts), or its fsync failed. */
  onCorrupt?: (err: unknown) => void;
}

export interface GroupCommitStats {
  /** Operations submitted. */
  ops: number;
  /** Transactions committed or attempted. */
  batches: number;
  /** Directory fsyncs issued. */
  dirSyncs: number;
  /** Largest batch so far. */
  maxBatch: number;
}

export class GroupCommit {
  readonly stats: GroupCommitStats = { ops: 0, batches: 0, dirSyncs: 0, maxBatch: 0 };
  private queue: Pending[] = [];
  private active: Promise<void> | null = null;
  private readonly runOne: (p: Pending) => unknown;
  private readonly runBatch: Transaction<(batch: Pending[]) => Array<{ ok: boolean; value: unknown }>>;

  constructor(
    db: Database,
    private readonly hooks: GroupCommitHooks = {},
  ) {
    // A transaction function called inside another one becomes a SAVEPOINT.
    this.runOne = db.transaction((p: Pending) => p.run());
    this.runBatch = db.transaction((batch: Pending[]) => {
      const results = batch.map((p) => {
        try {
          return { ok: true, value: this.runOne(p) };
        } catch (err) {
          // SQLite may answer SQLITE_FULL or an I/O error by rolling back the whole
          // transaction, not just the savepoint: the operations before this one are
          // gone too, and the ones after would each commit alone. Fail the batch.
          if (!db.inTransaction) throw err;
          return { ok: false, value: err as unknown };
        }
      });
      this.hooks.beforeCommit?.();
      return results;
    });
  }

  /**
   * Queues `run` (synchronous SQLite work) to execute in the next batch after
   * `dirs` have been fsynced. Resolves with its result once committed.
   */
  submit<T>(run: () => T, dirs: readonly string[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, dirs, resolve: resolve as (v: unknown) => void, reject });
      this.stats.ops++;
      if (!this.active) this.active = this.flushLoop();
    });
  }

  /** Resolves when everything queued so far is settled. */
  async drain(): Promise<void> {
    while (this.active) await this.active;
  }

  /**
   * A two-stage pipeline: while batch N commits (and its WAL is fsynced), the
   * directory fsyncs of batch N + 1 already run on the threadpool.
   */
  private async flushLoop(): Promise<void> {
    try {
      // Let everything that becomes ready in this turn join the first batch.
      await new Promise<void>((r) => setImmediate(r));
      let batch = this.take();
      let synced = batch && this.syncDirs(batch);
      while (batch && synced) {
        const syncError = await synced;
        const next = this.take();
        const nextSynced = next && this.syncDirs(next);
        await this.commit(batch, syncError);
        batch = next ?? this.take();
        synced = next ? nextSynced : batch && this.syncDirs(batch);
      }
    } finally {
      this.active = null;
    }
  }

  private take(): Pending[] | null {
    if (this.queue.length === 0) return null;
    const batch = this.queue;
    this.queue = [];
    return batch;
  }

  /** fsyncs the directories of a batch's new files; resolves to the error, if any. */
  private syncDirs(batch: Pending[]): Promise<unknown> {
    const dirs = [...new Set(batch.flatMap((p) => p.dirs))];
    this.stats.dirSyncs += dirs.length;
    return Promise.all(dirs.map(fsyncDir)).then(
      () => undefined,
      (err: unknown) => err ?? new Error("directory fsync failed"),
    );
  }

  private async commit(batch: Pending[], syncError: unknown): Promise<void> {
    this.stats.batches++;
    if (batch.length > this.stats.maxBatch) this.stats.maxBatch = batch.length;
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      if (syncError !== undefined) throw syncError;
      results = this.runBatch.immediate(batch);
    } catch (err) {
      if (isCorruption(err)) this.hooks.onCorrupt?.(err);
      await this.hooks.afterCommit?.(false);
      for (const p of batch) p.reject(err);
      return;
    }
    try {
      await this.hooks.durable?.();
    } catch (err) {
      // Committed but perhaps not on disk, and later fsyncs cannot be trusted
      // to cover it: nobody is told "stored", unreferenced files stay, and the
      // process is asked to restart (SQLite recovers from the WAL on disk).
      this.hooks.onCorrupt?.(err);
      for (const p of batch) p.reject(err);
      return;
    }
    await this.hooks.afterCommit?.(true);
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else {
        if (isCorruption(r.value)) this.hooks.onCorrupt?.(r.value);
        p.reject(r.value);
      }
    });
  }
}
