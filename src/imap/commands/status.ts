/**
 * STATUS (RFC 3501 §6.3.10, RFC 9051 §6.3.11): MESSAGES, RECENT, UIDNEXT,
 * UIDVALIDITY, UNSEEN, DELETED, SIZE. Delta Chat's fallback for a missing
 * UIDNEXT is `STATUS "INBOX" (UIDNEXT)`.
 */
import { Response } from "../wire/encode.ts";
import { AUTHED, bad, type CommandSpec, no, ok } from "./types.ts";

const ITEMS = new Set(["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE"]);

export const status: CommandSpec<"STATUS"> = {
  states: AUTHED,
  async run(s, cmd) {
    for (const item of cmd.items) if (!ITEMS.has(item)) return bad(`Unknown STATUS item ${item}.`);
    const mb = await s.ctx.store.getMailbox(s.user, cmd.mailbox);
    if (!mb) return no("Mailbox doesn't exist.", "NONEXISTENT");
    const needsMessages = cmd.items.some((i) => i !== "UIDNEXT" && i !== "UIDVALIDITY");
    const records = needsMessages ? await s.ctx.store.listMessages(mb.id) : [];
    const maxUid = records.length > 0 ? records[records.length - 1]!.uid : 0;
    const values: string[] = [];
    for (const item of new Set(cmd.items)) {
      let n: number;
      switch (item) {
        case "MESSAGES":
          n = records.length;
          break;
        case "RECENT": {
          // Not yet claimed by any session (RFC 3501 §6.3.10).
          const floor = s.ctx.recentFloor.get(mb.id) ?? 1;
          n = records.filter((r) => r.uid >= floor).length;
          break;
        }
        case "UIDNEXT":
          n = Math.max(mb.uidNext, maxUid + 1);
          break;
        case "UIDVALIDITY":
          n = mb.uidValidity;
          break;
        case "UNSEEN":
          n = records.filter((r) => !r.flags.includes("\\Seen")).length;
          break;
        case "DELETED":
          n = records.filter((r) => r.flags.includes("\\Deleted")).length;
          break;
        default:
          n = records.reduce((sum, r) => sum + r.size, 0);
      }
      values.push(`${item} ${n}`);
    }
    s.write(
      new Response()
        .text("* STATUS ")
        .astring(mb.name)
        .text(` (${values.join(" ")})`)
        .build(),
    );
    return ok("Status completed.");
  },
};
