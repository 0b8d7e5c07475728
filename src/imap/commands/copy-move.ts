/**
 * COPY / UID COPY (RFC 3501 §6.4.7), MOVE / UID MOVE (RFC 6851) with COPYUID
 * (RFC 4315 §3). A missing destination gets NO [TRYCREATE]. MOVE reports
 * "* OK [COPYUID ...]" and then the EXPUNGEs of the moved messages.
 */
import type { MessageRecord } from "../../store/types.ts";
import { INVALID_SET, loadRecords, resolveTargets } from "../messages.ts";
import type { Session } from "../session.ts";
import type { SequenceSet } from "../wire/sequence.ts";
import { formatSequenceSet } from "../wire/sequence.ts";
import { bad, type CommandSpec, no, ok, type Result, SELECTED } from "./types.ts";

async function transfer(
  s: Session,
  set: SequenceSet,
  uid: boolean,
  mailbox: string,
  move: boolean,
): Promise<Result> {
  const v = s.view!;
  const targets = resolveTargets(v, set, uid);
  if (!targets) return bad(INVALID_SET);
  const dest = await s.ctx.store.getMailbox(s.user, mailbox);
  if (!dest) return no("Mailbox doesn't exist.", "TRYCREATE");
  if (move && v.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
  const verb = move ? "Move" : "Copy";
  if (targets.length === 0) return ok(`No messages to ${verb.toLowerCase()}.`);
  const uids = targets.map((t) => t.uid);
  const source = await loadRecords(s.ctx.store, v.mailboxId, uids);
  const pairs = move
    ? await s.ctx.store.move(v.mailboxId, uids, dest.id)
    : await s.ctx.store.copy(v.mailboxId, uids, dest.id);
  if (pairs.length === 0) return ok(`No messages to ${verb.toLowerCase()}.`);
  const records: MessageRecord[] = [];
  for (const [from, to] of pairs) {
    const rec = source.get(from);
    if (rec) records.push({ ...rec, mailboxId: dest.id, uid: to });
  }
  s.publish({ kind: "exists", address: s.user, mailboxId: dest.id, records });
  const code = `COPYUID ${dest.uidValidity} ${formatSequenceSet(pairs.map((p) => p[0]))} ${formatSequenceSet(
    pairs.map((p) => p[1]),
  )}`;
  if (!move) return ok("Copy completed.", code);
  s.publish({ kind: "expunge", address: s.user, mailboxId: v.mailboxId, uids: pairs.map((p) => p[0]) });
  // RFC 6851 §4.3: COPYUID goes into an untagged OK before the EXPUNGE responses.
  s.write(`* OK [${code}] Moved UIDs.\r\n`);
  return ok("Move completed.");
}

export const copy: CommandSpec<"COPY" | "MOVE"> = {
  states: SELECTED,
  run: (s, cmd) => transfer(s, cmd.set, cmd.uid, cmd.mailbox, cmd.name === "MOVE"),
  // COPY by sequence number: keep numbers stable for pipelined commands (RFC 3501 §5.5).
  expunge: (cmd) => cmd.uid || cmd.name === "MOVE",
};
