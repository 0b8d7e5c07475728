/**
 * The Store on one SQLite file, which also holds the small message bodies,
 * plus one file per large body (inline-bodies.ts). Reads run directly; every
 * write goes through group commit (see group-commit.ts) and resolves only when
 * it is durable.
 */
import {
  type AccountRow,
  type Core,
  type JobRow,
  type MailboxRow,
  type MessageRow,
  toAccount,
  toJob,
  toMailbox,
  toMessage,
} from "./core.ts";
import {
  copyMessagesTx,
  createAccountTx,
  createMailboxTx,
  deleteAccountTx,
  deleteMailboxTx,
  findMailbox,
  moveMessagesTx,
  renameMailboxTx,
} from "./mailbox-ops.ts";
import { applyFlags, canonicalName, formatFlags, newMailboxName, parseFlags, uniqueFlags } from "./names.ts";
import type {
  Account,
  DeviceToken,
  FlagMode,
  Job,
  Mailbox,
  MessageRecord,
  NewJob,
  NewMessage,
  Store,
} from "./types.ts";
import { StoreError } from "./types.ts";

const addr = (address: string): string => address.toLowerCase();
const DAY_SECONDS = 86400;

export class SqliteStore implements Store {
  private closed: Promise<void> | null = null;

  constructor(readonly core: Core) {}

  /** Group commit counters (batches, directory fsyncs); for tests and metrics. */
  get commitStats() {
    return { ...this.core.gc.stats };
  }

  // --- accounts ---

  async getAccount(address: string): Promise<Account | undefined> {
    const r = this.core.q("SELECT * FROM accounts WHERE address = ?").get(addr(address)) as
      | AccountRow
      | undefined;
    return r && toAccount(r);
  }

  createAccount(address: string, passwordHash: string, nowSeconds: number) {
    const a = addr(address);
    // Privacy: creation is kept only to the day (all that expiry needs), like last_login_day.
    const day = Math.floor(nowSeconds / DAY_SECONDS) * DAY_SECONDS;
    return this.core.write(() => createAccountTx(this.core, a, passwordHash, day));
  }

  async setLastLoginDay(address: string, day: number): Promise<void> {
    const a = addr(address);
    await this.core.write(() =>
      this.core.q("UPDATE accounts SET last_login_day = ? WHERE address = ?").run(day, a),
    );
  }

  async deleteAccount(address: string): Promise<void> {
    const a = addr(address);
    await this.core.write(() => deleteAccountTx(this.core, a));
  }

  async listAccounts(): Promise<Account[]> {
    return (this.core.q("SELECT * FROM accounts ORDER BY address").all() as AccountRow[]).map(toAccount);
  }

  // --- mailboxes ---

  async listMailboxes(address: string): Promise<Mailbox[]> {
    const rows = this.core
      .q("SELECT * FROM mailboxes WHERE address = ? ORDER BY name <> 'INBOX', name")
      .all(addr(address));
    return (rows as MailboxRow[]).map(toMailbox);
  }

  async getMailbox(address: string, name: string): Promise<Mailbox | undefined> {
    const r = findMailbox(this.core, addr(address), canonicalName(name));
    return r && toMailbox(r);
  }

  async getMailboxById(id: number): Promise<Mailbox | undefined> {
    const r = this.core.q("SELECT * FROM mailboxes WHERE id = ?").get(id) as MailboxRow | undefined;
    return r && toMailbox(r);
  }

  async createMailbox(address: string, name: string, specialUse: string | null = null): Promise<Mailbox> {
    const a = addr(address);
    const n = newMailboxName(name);
    return toMailbox(await this.core.write(() => createMailboxTx(this.core, a, n, specialUse)));
  }

  async deleteMailbox(address: string, name: string): Promise<void> {
    const a = addr(address);
    const n = canonicalName(name);
    await this.core.write(() => deleteMailboxTx(this.core, a, n));
  }

  async renameMailbox(address: string, from: string, to: string): Promise<void> {
    const a = addr(address);
    const f = canonicalName(from);
    const t = newMailboxName(to);
    await this.core.write(() => renameMailboxTx(this.core, a, f, t));
  }

  async setSubscribed(address: string, name: string, subscribed: boolean): Promise<void> {
    const a = addr(address);
    const n = canonicalName(name);
    await this.core.write(() => {
      const r = this.core
        .q("UPDATE mailboxes SET subscribed = ? WHERE address = ? AND name = ?")
        .run(subscribed ? 1 : 0, a, n);
      if (r.changes === 0) throw new StoreError("NONEXISTENT", "no such mailbox");
    });
  }

  // --- messages ---

  async append(mailboxId: number, message: NewMessage): Promise<MessageRecord> {
    if (!this.core.q("SELECT 1 FROM mailboxes WHERE id = ?").get(mailboxId)) {
      throw new StoreError("NONEXISTENT", "no such mailbox");
    }
    const flags = formatFlags(uniqueFlags(message.flags ?? []));
    const internalDate = message.internalDate ?? Date.now();
    const size = message.data.length;
    return this.core.writeWithBlob(message.data, (blobId) => {
      const uid = this.core.takeUid(mailboxId);
      this.insertMessage(mailboxId, uid, flags, internalDate, size, blobId);
      return { mailboxId, uid, flags: parseFlags(flags), internalDate, size, blobId };
    });
  }

  async deliver(addresses: string[], message: NewMessage): Promise<Map<string, MessageRecord>> {
    const list = [...new Set(addresses.map(addr))];
    const inbox = this.core.q("SELECT id FROM mailboxes WHERE address = ? AND name = 'INBOX'").pluck();
    const out = new Map<string, MessageRecord>();
    if (!list.some((a) => inbox.get(a) !== undefined)) return out;
    const flags = formatFlags(uniqueFlags(message.flags ?? []));
    const internalDate = message.internalDate ?? Date.now();
    const size = message.data.length;
    return this.core.writeWithBlob(message.data, (blobId) => {
      for (const a of list) {
        const mailboxId = inbox.get(a) as number | undefined;
        if (mailboxId === undefined) continue;
        const uid = this.core.takeUid(mailboxId);
        this.insertMessage(mailboxId, uid, flags, internalDate, size, blobId);
        out.set(a, { mailboxId, uid, flags: parseFlags(flags), internalDate, size, blobId });
      }
      return out;
    });
  }

  private insertMessage(
    mailboxId: number,
    uid: number,
    flags: string,
    date: number,
    size: number,
    blob: string,
  ) {
    this.core
      .q(
        "INSERT INTO messages (mailbox_id, uid, flags, internal_date, size, blob_id) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(mailboxId, uid, flags, date, size, blob);
  }

  async listMessages(mailboxId: number): Promise<MessageRecord[]> {
    const rows = this.core
      .q("SELECT uid, flags, internal_date, size, blob_id FROM messages WHERE mailbox_id = ? ORDER BY uid")
      .raw()
      .all(mailboxId) as Array<[number, string, number, number, string]>;
    const out = new Array<MessageRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = {
        mailboxId,
        uid: r[0],
        flags: parseFlags(r[1]),
        internalDate: r[2],
        size: r[3],
        blobId: r[4],
      };
    }
    return out;
  }

  async getMessage(mailboxId: number, uid: number): Promise<MessageRecord | undefined> {
    const r = this.core.q("SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?").get(mailboxId, uid) as
      | MessageRow
      | undefined;
    return r && toMessage(r);
  }

  readBlob(blobId: string): Promise<Buffer> {
    return this.core.readBody(blobId);
  }

  storeFlags(mailboxId: number, uids: number[], mode: FlagMode, flags: string[]): Promise<MessageRecord[]> {
    const sorted = [...new Set(uids)].sort((a, b) => a - b);
    return this.core.write(() => {
      const get = this.core.q("SELECT * FROM messages WHERE mailbox_id = ? AND uid = ?");
      const set = this.core.q("UPDATE messages SET flags = ? WHERE mailbox_id = ? AND uid = ?");
      const out: MessageRecord[] = [];
      for (const uid of sorted) {
        const row = get.get(mailboxId, uid) as MessageRow | undefined;
        if (!row) continue;
        const next = formatFlags(applyFlags(parseFlags(row.flags), mode, flags));
        if (next !== row.flags) set.run(next, mailboxId, uid);
        out.push(toMessage({ ...row, flags: next }));
      }
      return out;
    });
  }

  expunge(mailboxId: number, uids: number[]): Promise<number[]> {
    const sorted = [...new Set(uids)].sort((a, b) => a - b);
    return this.core.write(() => {
      const del = this.core
        .q("DELETE FROM messages WHERE mailbox_id = ? AND uid = ? RETURNING blob_id")
        .pluck();
      const out: number[] = [];
      for (const uid of sorted) {
        const blob = del.get(mailboxId, uid) as string | undefined;
        if (blob === undefined) continue;
        this.core.released(blob);
        out.push(uid);
      }
      return out;
    });
  }

  copy(fromMailboxId: number, uids: number[], toMailboxId: number): Promise<Array<[number, number]>> {
    return this.core.write(() => copyMessagesTx(this.core, fromMailboxId, uids, toMailboxId));
  }

  move(fromMailboxId: number, uids: number[], toMailboxId: number): Promise<Array<[number, number]>> {
    return this.core.write(() => moveMessagesTx(this.core, fromMailboxId, uids, toMailboxId));
  }

  async usedBytes(address: string): Promise<number> {
    return this.core
      .q(
        "SELECT COALESCE(SUM(m.size), 0) FROM mailboxes b JOIN messages m ON m.mailbox_id = b.id WHERE b.address = ?",
      )
      .pluck()
      .get(addr(address)) as number;
  }

  async listAccountMessages(address: string): Promise<MessageRecord[]> {
    const rows = this.core
      .q(
        "SELECT m.* FROM mailboxes b JOIN messages m ON m.mailbox_id = b.id WHERE b.address = ? ORDER BY m.internal_date, m.mailbox_id, m.uid",
      )
      .all(addr(address)) as MessageRow[];
    return rows.map(toMessage);
  }

  // --- device tokens (RFC 5464 /private/devicetoken) ---

  async setDeviceToken(address: string, token: string, nowSeconds: number, max?: number): Promise<void> {
    const a = addr(address);
    await this.core.write(() => {
      if (!this.core.q("SELECT 1 FROM accounts WHERE address = ?").get(a)) {
        throw new StoreError("NONEXISTENT", "no such account");
      }
      this.core
        .q(
          "INSERT INTO device_tokens (address, token, updated_at) VALUES (?, ?, ?) ON CONFLICT(address, token) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .run(a, token, nowSeconds);
      if (max === undefined) return;
      this.core
        .q(
          `DELETE FROM device_tokens WHERE address = ? AND token IN (
             SELECT token FROM device_tokens WHERE address = ? AND token <> ?
             ORDER BY updated_at DESC, token DESC LIMIT -1 OFFSET ?)`,
        )
        .run(a, a, token, Math.max(0, max - 1));
    });
  }

  async getDeviceTokens(address: string): Promise<DeviceToken[]> {
    return this.core
      .q("SELECT token, updated_at AS updatedAt FROM device_tokens WHERE address = ? ORDER BY token")
      .all(addr(address)) as DeviceToken[];
  }

  async deleteDeviceToken(address: string, token: string): Promise<void> {
    const a = addr(address);
    await this.core.write(() =>
      this.core.q("DELETE FROM device_tokens WHERE address = ? AND token = ?").run(a, token),
    );
  }

  // --- durable work queues ---

  enqueue(job: NewJob): Promise<Job> {
    const key = job.key ?? null;
    const payload = JSON.stringify(job.payload ?? null);
    const now = Date.now();
    const dueAt = job.dueAt ?? now;
    const run = (blobId: string | null): Job => {
      if (key !== null) {
        const existing = this.core.q("SELECT * FROM jobs WHERE queue = ? AND key = ?").get(job.queue, key);
        if (existing) return toJob(existing as JobRow);
      }
      const row = this.core
        .q(
          "INSERT INTO jobs (queue, key, payload, blob_id, created_at, due_at, attempts, last_error) VALUES (?, ?, ?, ?, ?, ?, 0, NULL) RETURNING *",
        )
        .get(job.queue, key, payload, blobId, now, dueAt) as JobRow;
      return toJob(row);
    };
    if (job.data) return this.core.writeWithBlob(job.data, run);
    return this.core.write(() => run(null));
  }

  async dueJobs(queue: string, nowMs: number, limit: number): Promise<Job[]> {
    const rows = this.core
      .q("SELECT * FROM jobs WHERE queue = ? AND due_at <= ? ORDER BY due_at, id LIMIT ?")
      .all(queue, nowMs, limit) as JobRow[];
    return rows.map(toJob);
  }

  async listJobs(queue: string): Promise<Job[]> {
    const rows = this.core.q("SELECT * FROM jobs WHERE queue = ? ORDER BY id").all(queue) as JobRow[];
    return rows.map(toJob);
  }

  async getJob(id: number): Promise<Job | undefined> {
    const r = this.core.q("SELECT * FROM jobs WHERE id = ?").get(id) as JobRow | undefined;
    return r && toJob(r);
  }

  /** Also counts the attempt: `attempts` goes up by one. A missing job is ignored. */
  async rescheduleJob(id: number, dueAt: number, lastError: string | null, payload?: unknown): Promise<void> {
    const p = payload === undefined ? null : JSON.stringify(payload);
    await this.core.write(() =>
      this.core
        .q(
          "UPDATE jobs SET due_at = ?, last_error = ?, attempts = attempts + 1, payload = COALESCE(?, payload) WHERE id = ?",
        )
        .run(dueAt, lastError, p, id),
    );
  }

  async deleteJob(id: number): Promise<void> {
    await this.core.write(() => {
      const row = this.core.q("DELETE FROM jobs WHERE id = ? RETURNING blob_id").get(id) as
        | { blob_id: string | null }
        | undefined;
      this.core.released(row?.blob_id ?? null);
    });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.core.gc.drain();
      this.core.db.close();
      await this.core.wal?.close();
    })();
    return this.closed;
  }
}
