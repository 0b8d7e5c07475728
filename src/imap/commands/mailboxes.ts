/**
 * CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 3501 §6.3.3-7). Names are
 * stored as sent (modified UTF-7 passes through untouched), hierarchy "/".
 * CREATE makes missing parents (§6.3.3 SHOULD). Every change is published as
 * a "mailboxes" event so that sessions check their selected mailbox still exists.
 */
import type { Session } from "../session.ts";
import { AUTHED, bad, type CommandSpec, no, ok } from "./types.ts";

/** Why a name cannot be created, or null. */
export function invalidName(name: string): string | null {
  if (name.length === 0) return "Empty mailbox name.";
  if (Buffer.byteLength(name) > 255) return "Mailbox name too long.";
  if (/[*%\x00-\x1f\x7f]/.test(name)) return "Mailbox name contains invalid characters.";
  if (name.startsWith("/") || name.includes("//")) return "Invalid hierarchy in mailbox name.";
  return null;
}

function changed(s: Session): void {
  s.publish({ kind: "mailboxes", address: s.user });
}

export const create: CommandSpec<"CREATE"> = {
  states: AUTHED,
  async run(s, cmd) {
    // RFC 3501 §6.3.3: a trailing delimiter only says "will have children".
    const name = cmd.mailbox.endsWith("/") ? cmd.mailbox.slice(0, -1) : cmd.mailbox;
    const problem = invalidName(name);
    if (problem) return bad(problem);
    const store = s.ctx.store;
    if (await store.getMailbox(s.user, name)) return no("Mailbox already exists.", "ALREADYEXISTS");
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (!(await store.getMailbox(s.user, parent))) {
        try {
          await store.createMailbox(s.user, parent);
        } catch {
          // Created concurrently: fine.
        }
      }
    }
    await store.createMailbox(s.user, name);
    changed(s);
    return ok("Create completed.");
  },
};

export const del: CommandSpec<"DELETE"> = {
  states: AUTHED,
  async run(s, cmd) {
    if (cmd.mailbox === "INBOX") return no("INBOX can't be deleted.", "CANNOT");
    const mb = await s.ctx.store.getMailbox(s.user, cmd.mailbox);
    if (!mb) return no("Mailbox doesn't exist.", "NONEXISTENT");
    await s.ctx.store.deleteMailbox(s.user, mb.name);
    changed(s);
    return ok("Delete completed.");
  },
};

export const rename: CommandSpec<"RENAME"> = {
  states: AUTHED,
  async run(s, cmd) {
    const store = s.ctx.store;
    const to = cmd.to.endsWith("/") ? cmd.to.slice(0, -1) : cmd.to;
    const problem = invalidName(to);
    if (problem) return bad(problem);
    const from = await store.getMailbox(s.user, cmd.from);
    if (!from) return no("Mailbox doesn't exist.", "NONEXISTENT");
    if (await store.getMailbox(s.user, to)) return no("Target mailbox already exists.", "ALREADYEXISTS");
    // Renaming INBOX moves its messages out (§6.3.5): the sessions on INBOX see them expunged.
    const inboxUids = from.name === "INBOX" ? (await store.listMessages(from.id)).map((r) => r.uid) : [];
    await store.renameMailbox(s.user, from.name, to);
    if (inboxUids.length > 0) {
      s.publish({ kind: "expunge", address: s.user, mailboxId: from.id, uids: inboxUids });
    }
    changed(s);
    return ok("Rename completed.");
  },
};

export const subscribe: CommandSpec<"SUBSCRIBE" | "UNSUBSCRIBE"> = {
  states: AUTHED,
  async run(s, cmd) {
    const mb = await s.ctx.store.getMailbox(s.user, cmd.mailbox);
    if (!mb) {
      if (cmd.name === "UNSUBSCRIBE") return ok("Unsubscribe completed.");
      return no("Mailbox doesn't exist.", "NONEXISTENT");
    }
    await s.ctx.store.setSubscribed(s.user, mb.name, cmd.name === "SUBSCRIBE");
    return ok(`${cmd.name === "SUBSCRIBE" ? "Subscribe" : "Unsubscribe"} completed.`);
  },
};
