/**
 * Shared machinery of the SQLite store: cached prepared statements, the group
 * commit queue, message bodies (small ones inline in SQLite, inline-bodies.ts;
 * large ones as files, blob-files.ts) and the removal of bodies nobody references.
 */
import type { Database, Statement } from "better-sqlite3";
import type { Logger } from "../log.ts";
import type { BlobFiles } from "./blob-files.ts";
import { reportingCorruption } from "./corruption.ts";
import { asStoreError, isOutOfSpace } from "./full.ts";
import { GroupCommit } from "./group-commit.ts";
import { INLINE_MAX_BYTES, isInlineId, newInlineId } from "./inline-bodies.ts";
import { parseFlags } from "./names.ts";
import { type Account, type Job, type Mailbox, type MessageRecord, StoreError } from "./types.ts";
import type { WalSync } from "./wal-sync.ts";

export interface AccountRow {
  address: string;
  password_hash: string;
  created_at: number;
  last_login_day: number;
}

export interface MailboxRow {
  id: number;
  address: string;
  name: string;
  uidvalidity: number;
  uidnext: number;
  special_use: string | null;
  subscribed: number;
}

export interface MessageRow {
  mailbox_id: number;
  uid: number;
  flags: string;
  internal_date: number;
  size: number;
  blob_id: string;
}

export interface JobRow {
  id: number;
  queue: string;
  key: string | null;
  payload: string;
  blob_id: string | null;
  created_at: number;
  due_at: number;
  attempts: number;
  last_error: string | null;
}

export function toAccount(r: AccountRow): Account {
  return {
    address: r.address,
    passwordHash: r.password_hash,
    createdAt: r.created_at,
    lastLoginDay: r.last_login_day,
  };
}

export function toMailbox(r: MailboxRow): Mailbox {
  return {
    id: r.id,
    address: r.address,
    name: r.name,
    uidValidity: r.uidvalidity,
    uidNext: r.uidnext,
    specialUse: r.special_use,
    subscribed: r.subscribed !== 0,
  };
}

export function toMessage(r: MessageRow): MessageRecord {
  return {
    mailboxId: r.mailbox_id,
    uid: r.uid,
    flags: parseFlags(r.flags),
    internalDate: r.internal_date,
    size: r.size,
    blobId: r.blob_id,
  };
}

export function toJob(r: JobRow): Job {
  return {
    id: r.id,
    queue: r.queue,
    key: r.key,
    payload: JSON.parse(r.payload) as unknown,
    blobId: r.blob_id,
    createdAt: r.created_at,
    dueAt: r.due_at,
    attempts: r.attempts,
    lastError: r.last_error,
  };
}

export class Core {
  readonly gc: GroupCommit;
  private readonly statements = new Map<string, Statement>();
  /** Blobs that may have lost their last reference in the running batch. */
  private candidates = new Set<string>();
  private unlinkAfterCommit: string[] = [];

  constructor(
    readonly db: Database,
    readonly blobs: BlobFiles,
    readonly log: Logger,
    private readonly onCorrupt?: (err: unknown) => void,
    /** Bodies up to this size are stored inline (inline-bodies.ts); larger ones as files. */
    readonly inlineMaxBytes = INLINE_MAX_BYTES,
    /** The WAL's fsync after each commit (synchronous=NORMAL); none: commits are durable themselves. */
    readonly wal?: WalSync,
  ) {
    this.gc = new GroupCommit(db, {
      beforeCommit: () => this.findUnreferenced(),
      afterCommit: (committed) => this.removeUnreferenced(committed),
      durable: wal ? () => wal.sync() : undefined,
      onCorrupt,
    });
  }

  /** A prepared statement, compiled once. */
  q(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.onCorrupt) s = reportingCorruption(s, this.onCorrupt);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** A durable SQLite-only write. A full disk rejects with StoreError "FULL" (full.ts). */
  write<T>(run: () => T): Promise<T> {
    return this.gc.submit(run).catch((err: unknown) => {
      throw asStoreError(err);
    });
  }

  /**
   * A durable write of a new body plus rows referencing it. A small body is
   * inserted by the same transaction; a large one is a file written (and
   * fsynced) first, whose directory group commit fsyncs before the commit. If
   * `run` throws or stores no reference, the body is removed: an inline one by
   * the savepoint's rollback or before the commit, a file after the commit; if
   * the disk is full, at once (a batch that failed with SQLITE_FULL committed
   * nothing, and the file's space is what the next commit needs).
   */
  async writeWithBlob<T>(data: Buffer, run: (blobId: string) => T): Promise<T> {
    if (data.length <= this.inlineMaxBytes) {
      const inline = newInlineId();
      return this.write(() => {
        this.q("INSERT INTO bodies (id, data) VALUES (?, ?)").run(inline, data);
        this.candidates.add(inline);
        return run(inline);
      });
    }
    const { id, dir } = await this.blobs.write(data);
    try {
      return await this.gc.submit(() => {
        this.candidates.add(id);
        return run(id);
      }, [dir]);
    } catch (err) {
      if (!isOutOfSpace(err)) throw err;
      await this.blobs.remove(id).catch(() => {});
      throw asStoreError(err);
    }
  }

  /** A body by its id, inline or a file; StoreError NONEXISTENT if it is gone. */
  async readBody(id: string): Promise<Buffer> {
    if (!isInlineId(id)) return this.blobs.read(id);
    const data = this.q("SELECT data FROM bodies WHERE id = ?").pluck().get(id) as Buffer | undefined;
    if (data === undefined) throw new StoreError("NONEXISTENT", "no such blob");
    return data;
  }

  /** Marks a blob whose reference was just deleted (inside a write). */
  released(blobId: string | null): void {
    if (blobId) this.candidates.add(blobId);
  }

  /** The next UID of a mailbox, reserved (inside a write). */
  takeUid(mailboxId: number): number {
    const r = this.q(
      "UPDATE mailboxes SET uidnext = uidnext + 1 WHERE id = ? RETURNING uidnext - 1 AS uid",
    ).get(mailboxId) as { uid: number } | undefined;
    if (!r) throw new StoreError("NONEXISTENT", "no such mailbox");
    return r.uid;
  }

  /**
   * A fresh UIDVALIDITY (inside a write): the unix seconds of today's UTC
   * midnight, but always larger than any value handed out before, so every
   * mailbox incarnation gets its own. Midnight rather than now: the value is
   * shown to the client and stored, and must not date the account to the second.
   */
  newUidValidity(): number {
    const last =
      (this.q("SELECT value FROM meta WHERE key = 'last_uidvalidity'").get() as { value: number } | undefined)
        ?.value ?? 0;
    const today = Math.floor(Date.now() / 86_400_000) * 86_400;
    const v = Math.max(today, last + 1);
    // RFC 3501 §9: nz-number, 32 bits.
    if (v > 0xffffffff) throw new StoreError("CANNOT", "UIDVALIDITY space exhausted");
    this.q(
      "INSERT INTO meta (key, value) VALUES ('last_uidvalidity', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(v);
    return v;
  }

  /** Inside the batch transaction: an unreferenced inline body goes with it, a file after it. */
  private findUnreferenced(): void {
    if (this.candidates.size === 0) return;
    const used = this.q(
      "SELECT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?) OR EXISTS (SELECT 1 FROM jobs WHERE blob_id = ?) AS used",
    );
    const drop = this.q("DELETE FROM bodies WHERE id = ?");
    for (const id of this.candidates) {
      if ((used.get(id, id) as { used: number }).used) continue;
      if (isInlineId(id)) drop.run(id);
      else this.unlinkAfterCommit.push(id);
    }
    this.candidates = new Set();
  }

  private async removeUnreferenced(committed: boolean): Promise<void> {
    const ids = this.unlinkAfterCommit;
    this.unlinkAfterCommit = [];
    this.candidates = new Set();
    // If the batch failed as a whole its outcome is unknown: keep the files (an orphan is harmless).
    if (!committed) return;
    await Promise.all(
      ids.map((id) =>
        this.blobs
          .remove(id)
          .catch((err: unknown) => this.log.warn({ err }, "store: cannot remove body file")),
      ),
    );
  }
}
