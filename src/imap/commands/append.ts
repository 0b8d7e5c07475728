/**
 * APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3). Durable before OK;
 * then published so that sessions on the mailbox (this one too) report EXISTS.
 * Message size is limited by config.max_message_size (the framer refuses a
 * larger literal before it is sent), the account by config.max_mailbox_size.
 */
import { checkFlags } from "./store.ts";
import { AUTHED, bad, type CommandSpec, no, ok } from "./types.ts";

export const append: CommandSpec<"APPEND"> = {
  states: AUTHED,
  async run(s, cmd) {
    const problem = checkFlags(cmd.flags);
    if (problem) return bad(problem);
    const config = s.ctx.config;
    if (cmd.data.length === 0) return no("Can't save a zero byte message.");
    if (cmd.data.length > config.max_message_size) return no("Message too large.", "TOOBIG");
    const store = s.ctx.store;
    const mb = await store.getMailbox(s.user, cmd.mailbox);
    if (!mb) return no("Mailbox doesn't exist.", "TRYCREATE");
    if ((await store.usedBytes(s.user)) + cmd.data.length > config.max_mailbox_size) {
      return no("Quota exceeded (mailbox for user is full).", "OVERQUOTA");
    }
    const record = await store.append(mb.id, {
      data: cmd.data,
      flags: [...new Set(cmd.flags)],
      internalDate: cmd.date ?? undefined,
    });
    s.publish({ kind: "exists", address: s.user, mailboxId: mb.id, records: [record] });
    return ok("Append completed.", `APPENDUID ${mb.uidValidity} ${record.uid}`);
  },
};
