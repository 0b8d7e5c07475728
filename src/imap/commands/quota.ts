/**
 * QUOTA (RFC 9208): one quota root per account with the STORAGE resource in
 * KiB: usage from store.usedBytes, limit config.max_mailbox_size. The root is
 * named like Dovecot's ("User quota") as on the reference relay.
 */
import type { Session } from "../session.ts";
import { quote, Response } from "../wire/encode.ts";
import { AUTHED, type CommandSpec, no, ok } from "./types.ts";

export const QUOTA_ROOT = "User quota";

async function quotaLine(s: Session): Promise<string> {
  const used = Math.floor((await s.ctx.store.usedBytes(s.user)) / 1024);
  const limit = Math.floor(s.ctx.config.max_mailbox_size / 1024);
  return `* QUOTA ${quote(QUOTA_ROOT)} (STORAGE ${used} ${limit})\r\n`;
}

export const getquotaroot: CommandSpec<"GETQUOTAROOT"> = {
  states: AUTHED,
  async run(s, cmd) {
    const mb = await s.ctx.store.getMailbox(s.user, cmd.mailbox);
    if (!mb) return no("Mailbox doesn't exist.", "NONEXISTENT");
    const line = await quotaLine(s);
    s.write(
      new Response()
        .text("* QUOTAROOT ")
        .astring(mb.name)
        .text(` ${quote(QUOTA_ROOT)}`)
        .build(),
    );
    s.write(line);
    return ok("Getquotaroot completed.");
  },
};

export const getquota: CommandSpec<"GETQUOTA"> = {
  states: AUTHED,
  async run(s, cmd) {
    if (cmd.root !== QUOTA_ROOT && cmd.root !== "") return no("Quota root doesn't exist.", "NONEXISTENT");
    s.write(await quotaLine(s));
    return ok("Getquota completed.");
  },
};

export const setquota: CommandSpec<"SETQUOTA"> = {
  states: AUTHED,
  run: () => no("Quota is set by the relay's configuration.", "NOPERM"),
};
