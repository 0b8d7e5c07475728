/**
 * Account and mailbox changes. Every function here is synchronous and runs
 * inside a group-commit write (one SQLite savepoint).
 */
import { type AccountRow, type Core, type MailboxRow, toAccount } from "./core.ts";
import { DELIMITER, INBOX, superiorNames } from "./names.ts";
import { type Account, StoreError } from "./types.ts";

/** The mailboxes every account starts with, with their RFC 6154 attributes. */
export const DEFAULT_MAILBOXES: ReadonlyArray<[string, string | null]> = [
  [INBOX, null],
  ["Sent", "\\Sent"],
  ["Drafts", "\\Drafts"],
  ["Trash", "\\Trash"],
  ["Junk", "\\Junk"],
];

export function findMailbox(core: Core, address: string, name: string): MailboxRow | undefined {
  return core.q("SELECT * FROM mailboxes WHERE address = ? AND name = ?").get(address, name) as
    | MailboxRow
    | undefined;
}

export function createAccountTx(
  core: Core,
  address: string,
  passwordHash: string,
  nowSeconds: number,
): { account: Account; created: boolean } {
  const inserted = core
    .q(
      "INSERT INTO accounts (address, password_hash, created_at, last_login_day) VALUES (?, ?, ?, 0) ON CONFLICT(address) DO NOTHING",
    )
    .run(address, passwordHash, nowSeconds);
  const created = inserted.changes === 1;
  if (created) {
    // Names differ, so the default mailboxes may share one UIDVALIDITY.
    const uidValidity = core.newUidValidity();
    for (const [name, specialUse] of DEFAULT_MAILBOXES) {
      insertMailbox(core, address, name, specialUse, true, uidValidity);
    }
  }
  const row = core.q("SELECT * FROM accounts WHERE address = ?").get(address) as AccountRow;
  return { account: toAccount(row), created };
}

function insertMailbox(
  core: Core,
  address: string,
  name: string,
  specialUse: string | null,
  subscribed: boolean,
  uidValidity = core.newUidValidity(),
): MailboxRow {
  return core
    .q(
      "INSERT INTO mailboxes (address, name, uidvalidity, uidnext, special_use, subscribed) VALUES (?, ?, ?, 1, ?, ?) RETURNING *",
    )
    .get(address, name, uidValidity, specialUse, subscribed ? 1 : 0) as MailboxRow;
}

function requireAccount(core: Core, address: string): void {
  if (!core.q("SELECT 1 FROM accounts WHERE address = ?").get(address)) {
    throw new StoreError("NONEXISTENT", "no such account");
  }
}

/** RFC 3501 §6.3.3: missing superior names are created too. */
function createSuperiors(core: Core, address: string, name: string): void {
  for (const sup of superiorNames(name)) {
    if (!findMailbox(core, address, sup)) insertMailbox(core, address, sup, null, false);
  }
}

export function createMailboxTx(
  core: Core,
  address: string,
  name: string,
  specialUse: string | null,
): MailboxRow {
  requireAccount(core, address);
  if (findMailbox(core, address, name)) throw new StoreError("ALREADYEXISTS", "mailbox exists");
  createSuperiors(core, address, name);
  return insertMailbox(core, address, name, specialUse, false);
}

export function deleteMailboxTx(core: Core, address: string, name: string): void {
  if (name === INBOX) throw new StoreError("CANNOT", "INBOX cannot be deleted");
  const mbox = findMailbox(core, address, name);
  if (!mbox) throw new StoreError("NONEXISTENT", "no such mailbox");
  releaseMessages(core, "SELECT DISTINCT blob_id FROM messages WHERE mailbox_id = ?", mbox.id);
  core.q("DELETE FROM mailboxes WHERE id = ?").run(mbox.id);
}

/** RFC 3501 §6.3.5. */
export function renameMailboxTx(core: Core, address: string, from: string, to: string): void {
  const src = findMailbox(core, address, from);
  if (!src) throw new StoreError("NONEXISTENT", "no such mailbox");
  if (findMailbox(core, address, to)) throw new StoreError("ALREADYEXISTS", "target mailbox exists");
  if (from === INBOX) {
    // Renaming INBOX moves its messages to a new mailbox; INBOX stays, empty,
    // and its inferior names are unaffected.
    createSuperiors(core, address, to);
    const target = insertMailbox(core, address, to, null, false);
    const uids = core
      .q("SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid")
      .pluck()
      .all(src.id) as number[];
    moveMessagesTx(core, src.id, uids, target.id);
    return;
  }
  if (to.startsWith(from + DELIMITER)) throw new StoreError("CANNOT", "cannot rename a mailbox into itself");
  const prefix = from + DELIMITER;
  const children = core
    .q("SELECT id, name FROM mailboxes WHERE address = ? AND substr(name, 1, ?) = ? ORDER BY name")
    .all(address, prefix.length, prefix) as Array<{ id: number; name: string }>;
  const renames: Array<[number, string]> = [[src.id, to]];
  for (const c of children) renames.push([c.id, to + c.name.slice(from.length)]);
  for (const [, newName] of renames.slice(1)) {
    if (findMailbox(core, address, newName)) throw new StoreError("ALREADYEXISTS", "target mailbox exists");
  }
  // Two passes, so that swapping names inside the subtree cannot collide.
  const rename = core.q("UPDATE mailboxes SET name = ? WHERE id = ?");
  for (const [id] of renames) rename.run(`\0${id}`, id);
  for (const [id, newName] of renames) rename.run(newName, id);
  createSuperiors(core, address, to);
}

/** Copies messages in UID order; returns [sourceUid, newUid] pairs. */
export function copyMessagesTx(
  core: Core,
  fromId: number,
  uids: readonly number[],
  toId: number,
  deleteSource = false,
): Array<[number, number]> {
  if (!core.q("SELECT 1 FROM mailboxes WHERE id = ?").get(toId)) {
    throw new StoreError("NONEXISTENT", "no such target mailbox");
  }
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const get = core.q(
    "SELECT flags, internal_date, size, blob_id FROM messages WHERE mailbox_id = ? AND uid = ?",
  );
  const insert = core.q(
    "INSERT INTO messages (mailbox_id, uid, flags, internal_date, size, blob_id) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const del = core.q("DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
  const pairs: Array<[number, number]> = [];
  for (const uid of sorted) {
    const row = get.get(fromId, uid) as
      | { flags: string; internal_date: number; size: number; blob_id: string }
      | undefined;
    if (!row) continue;
    const newUid = core.takeUid(toId);
    insert.run(toId, newUid, row.flags, row.internal_date, row.size, row.blob_id);
    if (deleteSource) del.run(fromId, uid);
    pairs.push([uid, newUid]);
  }
  return pairs;
}

export function moveMessagesTx(
  core: Core,
  fromId: number,
  uids: readonly number[],
  toId: number,
): Array<[number, number]> {
  return copyMessagesTx(core, fromId, uids, toId, true);
}

export function deleteAccountTx(core: Core, address: string): void {
  releaseMessages(
    core,
    "SELECT DISTINCT m.blob_id FROM mailboxes b JOIN messages m ON m.mailbox_id = b.id WHERE b.address = ?",
    address,
  );
  // Mailboxes, messages and device tokens go by ON DELETE CASCADE.
  core.q("DELETE FROM accounts WHERE address = ?").run(address);
}

function releaseMessages(core: Core, sql: string, arg: string | number): void {
  for (const id of core.q(sql).pluck().all(arg) as string[]) core.released(id);
}
