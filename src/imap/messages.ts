/**
 * From a command's sequence set to the messages it means, against the client's
 * view of the selected mailbox, and their records from the store.
 */
import type { MessageRecord } from "../store/types.ts";
import type { MailboxView } from "./mailbox-view.ts";
import { resolveSequenceNumbers, resolveUidIndexes, type SequenceSet } from "./wire/sequence.ts";

/** A message as the client knows it. */
export interface Target {
  seq: number;
  uid: number;
}

/**
 * The announced messages `set` selects, in sequence order, without those already
 * expunged elsewhere (RFC 2180 §4.1). Null when a sequence number is outside the
 * mailbox (the command gets BAD).
 */
export function resolveTargets(view: MailboxView, set: SequenceSet, uid: boolean): Target[] | null {
  const out: Target[] = [];
  if (uid) {
    for (const i of resolveUidIndexes(set, view.uids)) {
      const u = view.uids[i]!;
      if (!view.isExpunged(u)) out.push({ seq: i + 1, uid: u });
    }
    return out;
  }
  if (view.count === 0) return out;
  const seqs = resolveSequenceNumbers(set, view.count);
  if (!seqs) return null;
  for (const seq of seqs) {
    const u = view.uids[seq - 1]!;
    if (!view.isExpunged(u)) out.push({ seq, uid: u });
  }
  return out;
}

/** Records of the given UIDs that still exist, by UID. */
export async function loadRecords(
  store: {
    getMessage(m: number, u: number): Promise<MessageRecord | undefined>;
    listMessages(m: number): Promise<MessageRecord[]>;
  },
  mailboxId: number,
  uids: number[],
): Promise<Map<number, MessageRecord>> {
  const map = new Map<number, MessageRecord>();
  if (uids.length === 0) return map;
  if (uids.length <= 16) {
    for (const uid of uids) {
      const r = await store.getMessage(mailboxId, uid);
      if (r) map.set(uid, r);
    }
    return map;
  }
  const wanted = new Set(uids);
  for (const r of await store.listMessages(mailboxId)) if (wanted.has(r.uid)) map.set(r.uid, r);
  return map;
}

export const INVALID_SET = "Invalid messageset";
