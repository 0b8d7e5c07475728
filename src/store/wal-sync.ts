/**
 * The WAL's fsync, off the event loop. With synchronous=FULL SQLite fsyncs the
 * WAL inside every commit, on the committing thread; better-sqlite3 commits on
 * the event loop, so every session stalls for every fsync. With
 * synchronous=NORMAL in WAL mode a commit does not fsync (SQLite's "PRAGMA
 * synchronous": such a commit may roll back after a power loss). The group
 * commit therefore calls sync() after each transaction: an fsync of the same
 * WAL file on the libuv threadpool, awaited before any promise of the batch
 * settles. A transaction is thus on disk before anybody is told of it, as with
 * FULL. Checkpoints stay SQLite's: with NORMAL it still fsyncs the WAL before
 * and the database after each one.
 */

import { statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

export class WalSync {
  private handle: FileHandle | undefined;
  private ino = -1;
  /** fsyncs issued (tests, metrics). */
  syncs = 0;

  constructor(private readonly path: string) {}

  /** fsyncs the WAL file (reopened if SQLite replaced it). */
  async sync(): Promise<void> {
    const ino = statSync(this.path).ino;
    if (this.handle === undefined || ino !== this.ino) {
      await this.handle?.close();
      this.handle = await open(this.path, "r");
      this.ino = ino;
    }
    this.syncs++;
    await this.handle.sync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}
