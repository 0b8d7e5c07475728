/**
 * SELECT / EXAMINE (RFC 3501 §6.3.1-2), UNSELECT (RFC 3691), CHECK (§6.4.1).
 * UIDVALIDITY is mandatory for Delta Chat, UIDNEXT expected
 * (chatmail/core src/imap/select_folder.rs).
 */
import { MailboxView } from "../mailbox-view.ts";
import { AUTHED, type CommandSpec, no, ok, SELECTED } from "./types.ts";

export const SYSTEM_FLAGS = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

export const select: CommandSpec<"SELECT" | "EXAMINE"> = {
  states: AUTHED,
  async run(s, cmd) {
    const readOnly = cmd.name === "EXAMINE";
    // RFC 3501 §6.3.1: a SELECT (even a failing one) first leaves the selected state.
    s.beginSelect();
    let view: MailboxView | null = null;
    try {
      const mb = await s.ctx.store.getMailbox(s.user, cmd.mailbox);
      if (!mb) return no("Mailbox doesn't exist.", "NONEXISTENT");
      const records = await s.ctx.store.listMessages(mb.id);
      view = new MailboxView(
        mb.id,
        mb.name,
        mb.uidValidity,
        readOnly,
        records.map((r) => r.uid),
        s.ctx.recentFloor,
      );
      s.endSelect(view);
      const keywords = new Set<string>();
      let firstUnseen = 0;
      for (const r of records) {
        for (const f of r.flags) if (!f.startsWith("\\")) keywords.add(f);
        if (firstUnseen === 0 && !r.flags.includes("\\Seen")) {
          const i = view.indexOf(r.uid);
          if (i >= 0) firstUnseen = i + 1;
        }
      }
      const flags = [SYSTEM_FLAGS, ...keywords].join(" ");
      const uidNext = Math.max(mb.uidNext, view.maxUid + 1);
      let out = `* FLAGS (${flags})\r\n`;
      out += readOnly
        ? "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
        : `* OK [PERMANENTFLAGS (${flags} \\*)] Flags permitted.\r\n`;
      out += `* ${view.count} EXISTS\r\n* ${view.recentCount} RECENT\r\n`;
      if (firstUnseen > 0) out += `* OK [UNSEEN ${firstUnseen}] First unseen.\r\n`;
      out += `* OK [UIDVALIDITY ${mb.uidValidity}] UIDs valid\r\n`;
      out += `* OK [UIDNEXT ${uidNext}] Predicted next UID\r\n`;
      s.write(out);
      return ok(`${readOnly ? "Examine" : "Select"} completed.`, readOnly ? "READ-ONLY" : "READ-WRITE");
    } finally {
      if (!view) s.endSelect(null);
    }
  },
};

export const unselect: CommandSpec<"UNSELECT"> = {
  states: SELECTED,
  run(s) {
    s.deselect();
    return ok("Unselect completed.");
  },
};

export const check: CommandSpec<"CHECK"> = {
  states: SELECTED,
  run: () => ok("Check completed."),
};
