/**
 * STORE / UID STORE (RFC 3501 §6.4.6). The change is committed, then published,
 * then echoed as FETCH (FLAGS) unless .SILENT; other sessions report it as
 * unsolicited FETCH. \Recent cannot be set by a client.
 */
import { INVALID_SET, resolveTargets } from "../messages.ts";
import { flagList } from "../wire/encode.ts";
import { bad, type CommandSpec, no, ok, SELECTED } from "./types.ts";

const SETTABLE_SYSTEM = new Set(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"]);

/** Flags a client may store: system flags other than \Recent, and keywords. */
export function checkFlags(flags: string[]): string | null {
  for (const f of flags) {
    if (f.startsWith("\\") && !SETTABLE_SYSTEM.has(f)) return `Invalid system flag ${f}`;
  }
  return null;
}

export const store: CommandSpec<"STORE"> = {
  states: SELECTED,
  async run(s, cmd) {
    const v = s.view!;
    const targets = resolveTargets(v, cmd.set, cmd.uid);
    if (!targets) return bad(INVALID_SET);
    const problem = checkFlags(cmd.flags);
    if (problem) return bad(problem);
    if (v.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
    if (targets.length === 0) return ok("Store completed.");
    const flags = [...new Set(cmd.flags)];
    const updated = await s.ctx.store.storeFlags(
      v.mailboxId,
      targets.map((t) => t.uid),
      cmd.mode,
      flags,
    );
    if (updated.length > 0) {
      s.publish({ kind: "flags", address: s.user, mailboxId: v.mailboxId, records: updated });
    }
    if (!cmd.silent) {
      let out = "";
      for (const rec of updated) {
        const i = v.indexOf(rec.uid);
        if (i < 0) continue;
        const flags = flagList(v.flagsOf(rec.uid, rec.flags));
        out += cmd.uid
          ? `* ${i + 1} FETCH (UID ${rec.uid} FLAGS ${flags})\r\n`
          : `* ${i + 1} FETCH (FLAGS ${flags})\r\n`;
      }
      if (out) s.write(out);
    }
    return ok("Store completed.");
  },
  // RFC 3501 §7.4.1: no EXPUNGE while responding to STORE (sequence numbers).
  expunge: (cmd) => cmd.uid,
};
