/**
 * The storage contract. Every method is asynchronous so that a networked backend
 * (PostgreSQL) can implement it later without touching protocol code.
 *
 * Durability rule: when a write method's promise resolves, the data is on disk
 * (the transaction committed, its WAL fsynced; a body stored as a file: that
 * file and its directory fsynced before the commit) and survives `kill -9`.
 * Concurrent writes share fsyncs (group commit).
 */

export interface Account {
  /** Lower-case address, e.g. "abc123def@example.org". */
  address: string;
  /** "{SHA512-CRYPT}$6$..." as in a Dovecot passdb. */
  passwordHash: string;
  /** Unix seconds of the UTC midnight of the day the account was created (day granularity). */
  createdAt: number;
  /** Unix seconds of the UTC midnight of the last IMAP login; 0 = never. */
  lastLoginDay: number;
}

export interface Mailbox {
  id: number;
  address: string;
  /** Full name, hierarchy delimiter "/", "INBOX" always upper case. */
  name: string;
  /** RFC 3501 §2.3.1.1: never changes while the mailbox exists. */
  uidValidity: number;
  /** The UID the next message will get; strictly increasing. */
  uidNext: number;
  /** RFC 6154 attribute such as "\\Sent", or null. */
  specialUse: string | null;
  subscribed: boolean;
}

export interface MessageRecord {
  mailboxId: number;
  uid: number;
  /** System flags ("\\Seen", ...) and keywords, in insertion order. */
  flags: string[];
  /** Unix milliseconds. */
  internalDate: number;
  /** RFC822.SIZE in octets. */
  size: number;
  /**
   * Identity of the body (inline in the database or a file); several records may share
   * one (multi-recipient delivery, COPY).
   */
  blobId: string;
}

export interface NewMessage {
  data: Buffer;
  flags?: string[];
  /** Unix milliseconds; default now. */
  internalDate?: number;
}

export type FlagMode = "add" | "remove" | "replace";

export interface DeviceToken {
  token: string;
  /** Unix seconds of the last SETMETADATA. */
  updatedAt: number;
}

/** One item of a durable work queue (outbound mail, push notifications). */
export interface Job {
  id: number;
  queue: string;
  /** Deduplication key: enqueue of an existing (queue, key) keeps the existing job. */
  key: string | null;
  /** JSON-serialisable payload. */
  payload: unknown;
  /** Optional body file, e.g. the message of an outbound delivery. */
  blobId: string | null;
  /** Unix milliseconds. */
  createdAt: number;
  dueAt: number;
  attempts: number;
  lastError: string | null;
}

export interface NewJob {
  queue: string;
  key?: string | null;
  payload: unknown;
  /** Stored durably as a body together with the job. */
  data?: Buffer;
  dueAt?: number;
}

/** FULL: the disk is out of space; nothing was stored, retry later (see full.ts). */
export class StoreError extends Error {
  constructor(
    readonly code: "NONEXISTENT" | "ALREADYEXISTS" | "CANNOT" | "OVERQUOTA" | "FULL",
    message: string,
  ) {
    super(message);
  }
}

export interface Store {
  // --- accounts ---
  getAccount(address: string): Promise<Account | undefined>;
  /**
   * Insert if absent. Of concurrent calls for one address exactly one gets
   * `created: true`; the others get the existing account (never overwritten).
   * Creates INBOX, Sent, Drafts, Trash and Junk.
   */
  createAccount(
    address: string,
    passwordHash: string,
    nowSeconds: number,
  ): Promise<{ account: Account; created: boolean }>;
  setLastLoginDay(address: string, day: number): Promise<void>;
  /** Removes the account, its mailboxes, messages, tokens and unreferenced bodies. */
  deleteAccount(address: string): Promise<void>;
  listAccounts(): Promise<Account[]>;

  // --- mailboxes ---
  listMailboxes(address: string): Promise<Mailbox[]>;
  /** Name match is exact except that "inbox" in any case means INBOX. */
  getMailbox(address: string, name: string): Promise<Mailbox | undefined>;
  getMailboxById(id: number): Promise<Mailbox | undefined>;
  /** Throws StoreError ALREADYEXISTS. */
  createMailbox(address: string, name: string, specialUse?: string | null): Promise<Mailbox>;
  /** Throws StoreError NONEXISTENT / CANNOT (INBOX). Deletes its messages. */
  deleteMailbox(address: string, name: string): Promise<void>;
  /**
   * RFC 3501 §6.3.5: renames the mailbox and its children. Renaming INBOX moves
   * its messages to the new mailbox and leaves INBOX empty.
   */
  renameMailbox(address: string, from: string, to: string): Promise<void>;
  setSubscribed(address: string, name: string, subscribed: boolean): Promise<void>;

  // --- messages ---
  /** Durable. Returns the new record (UID from the mailbox's UIDNEXT). */
  append(mailboxId: number, message: NewMessage): Promise<MessageRecord>;
  /**
   * Durable delivery of one message to the INBOX of several accounts: one body
   * shared by all. Unknown addresses are left out of the result.
   */
  deliver(addresses: string[], message: NewMessage): Promise<Map<string, MessageRecord>>;
  /** All messages of a mailbox ordered by UID. */
  listMessages(mailboxId: number): Promise<MessageRecord[]>;
  getMessage(mailboxId: number, uid: number): Promise<MessageRecord | undefined>;
  readBlob(blobId: string): Promise<Buffer>;
  /** Durable. Returns the records that exist, with their new flags. */
  storeFlags(mailboxId: number, uids: number[], mode: FlagMode, flags: string[]): Promise<MessageRecord[]>;
  /** Durable. Removes the given UIDs; returns the UIDs that were removed. */
  expunge(mailboxId: number, uids: number[]): Promise<number[]>;
  /** Durable. Copies in UID order; returns [sourceUid, newUid] pairs. */
  copy(fromMailboxId: number, uids: number[], toMailboxId: number): Promise<Array<[number, number]>>;
  /** Durable. Copy + expunge in one transaction. */
  move(fromMailboxId: number, uids: number[], toMailboxId: number): Promise<Array<[number, number]>>;
  /** Sum of RFC822.SIZE over all mailboxes of the account (quota usage). */
  usedBytes(address: string): Promise<number>;
  /** Messages of an account, all mailboxes, oldest internal date first. */
  listAccountMessages(address: string): Promise<MessageRecord[]>;

  // --- per-user metadata (RFC 5464 /private/devicetoken) ---
  /**
   * Adds the token or refreshes its timestamp. With `max`, the account then keeps
   * at most `max` tokens: the least recently set others are removed.
   */
  setDeviceToken(address: string, token: string, nowSeconds: number, max?: number): Promise<void>;
  getDeviceTokens(address: string): Promise<DeviceToken[]>;
  deleteDeviceToken(address: string, token: string): Promise<void>;

  // --- durable work queues ---
  /** Durable. Returns the job (the existing one if (queue, key) is taken). */
  enqueue(job: NewJob): Promise<Job>;
  /** Jobs of a queue with dueAt <= now, oldest due first. */
  dueJobs(queue: string, nowMs: number, limit: number): Promise<Job[]>;
  listJobs(queue: string): Promise<Job[]>;
  getJob(id: number): Promise<Job | undefined>;
  /** Durable. */
  rescheduleJob(id: number, dueAt: number, lastError: string | null, payload?: unknown): Promise<void>;
  /** Durable. Removes the job and its body if no longer referenced. */
  deleteJob(id: number): Promise<void>;

  close(): Promise<void>;
}
