/**
 * EXPUNGE (RFC 3501 §6.4.3), UID EXPUNGE (RFC 4315 §2.1), CLOSE (§6.4.2: expunges
 * silently, then leaves the selected state). The store commits first; the event
 * then reaches every session, this one included, whose view reports the EXPUNGE
 * responses when allowed.
 */
import { resolveTargets } from "../messages.ts";
import type { Session } from "../session.ts";
import { type CommandSpec, no, ok, SELECTED } from "./types.ts";

/** Removes the \Deleted messages of a mailbox (only UIDs in `allowed`, if given); publishes the removal. */
export async function expungeDeleted(
  s: Session,
  mailboxId: number,
  allowed: Set<number> | null,
): Promise<void> {
  const records = await s.ctx.store.listMessages(mailboxId);
  const doomed = records
    .filter((r) => r.flags.includes("\\Deleted") && (!allowed || allowed.has(r.uid)))
    .map((r) => r.uid);
  if (doomed.length === 0) return;
  const removed = await s.ctx.store.expunge(mailboxId, doomed);
  if (removed.length > 0) s.publish({ kind: "expunge", address: s.user, mailboxId, uids: removed });
}

export const expunge: CommandSpec<"EXPUNGE"> = {
  states: SELECTED,
  async run(s) {
    const v = s.view!;
    if (v.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
    await expungeDeleted(s, v.mailboxId, null);
    return ok("Expunge completed.");
  },
};

export const uidExpunge: CommandSpec<"UID EXPUNGE"> = {
  states: SELECTED,
  async run(s, cmd) {
    const v = s.view!;
    if (v.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
    const allowed = new Set((resolveTargets(v, cmd.set, true) ?? []).map((t) => t.uid));
    if (allowed.size > 0) await expungeDeleted(s, v.mailboxId, allowed);
    return ok("Expunge completed.");
  },
};

export const close: CommandSpec<"CLOSE"> = {
  states: SELECTED,
  async run(s) {
    const v = s.view!;
    // Leave the selected state first: CLOSE sends no EXPUNGE responses.
    s.deselect();
    if (!v.readOnly) await expungeDeleted(s, v.mailboxId, null);
    return ok("Close completed.");
  },
};
