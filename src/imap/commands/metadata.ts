/**
 * METADATA (RFC 5464) exactly as the reference relay serves it
 * (docs/reference-relay.md §2.4; read and written by chatmail/core src/imap.rs):
 *
 * - server entries (mailbox ""): /shared/admin ("mailto:<privacy_mail>"),
 *   /shared/vendor/deltachat/irohrelay (config.iroh_relay), .../turn
 *   ("<host>:<port>:<expiry>:<base64 HMAC-SHA1(secret, expiry)>", 5 days),
 *   .../maxsmtprecipients ("1000"); /shared/comment and .../appversions are not
 *   set. Entries without a value are left out, and with nothing to report there
 *   is no METADATA line at all (Delta Chat's parser needs a non-empty list).
 * - INBOX /private/devicetoken: SETMETADATA adds a push token (or refreshes its
 *   timestamp); GETMETADATA returns the valid tokens space-joined. A token is
 *   valid for 90 days after its last SETMETADATA and not more than 60 s in the
 *   future; expired ones are deleted when read. SETMETADATA with NIL is accepted
 *   and changes nothing: tokens are a set shared by the user's devices and NIL
 *   does not say which one to drop; unused tokens expire. An account keeps at
 *   most MAX_TOKENS_PER_ACCOUNT tokens; a new one drops the least recently set.
 * - every other SETMETADATA gets NO.
 *
 * The response always names the mailbox as a quoted string:
 * `* METADATA "" (/shared/admin "mailto:x" /shared/vendor/deltachat/maxsmtprecipients "1000")`.
 */
import type { Config } from "../../config/types.ts";
import { MAX_TOKENS_PER_ACCOUNT } from "../../push/schedule.ts";
import { turnCredentials } from "../../turn/credentials.ts";
import type { Session } from "../session.ts";
import { Response } from "../wire/encode.ts";
import { AUTHED, bad, type CommandSpec, no, ok } from "./types.ts";

const DEVICETOKEN = "/private/devicetoken";
const TOKEN_LIFETIME = 90 * 86400;
const FUTURE_SLACK = 60;
const MAX_TOKEN = 8192;

const SERVER_ENTRIES = [
  "/shared/comment",
  "/shared/admin",
  "/shared/vendor/deltachat/irohrelay",
  "/shared/vendor/deltachat/turn",
  "/shared/vendor/deltachat/maxsmtprecipients",
  "/shared/vendor/deltachat/appversions",
];

function serverValue(config: Config, entry: string, nowSeconds: number): string | null {
  switch (entry) {
    case "/shared/admin":
      return config.privacy_mail ? `mailto:${config.privacy_mail}` : null;
    case "/shared/vendor/deltachat/irohrelay":
      return config.iroh_relay ? config.iroh_relay : null;
    case "/shared/vendor/deltachat/turn":
      return turnCredentials(config, nowSeconds * 1000) ?? null;
    case "/shared/vendor/deltachat/maxsmtprecipients":
      return "1000";
    default:
      return null;
  }
}

/** The valid push tokens of a user; expired ones are deleted on the way. */
export async function validDeviceTokens(s: Session, nowSeconds: number): Promise<string[]> {
  const out: string[] = [];
  for (const t of await s.ctx.store.getDeviceTokens(s.user)) {
    if (t.updatedAt > nowSeconds - TOKEN_LIFETIME && t.updatedAt <= nowSeconds + FUTURE_SLACK)
      out.push(t.token);
    else await s.ctx.store.deleteDeviceToken(s.user, t.token);
  }
  return out;
}

/** RFC 5464 §3.2: entry names start with /private or /shared; no wildcards or consecutive slashes. */
function validEntry(entry: string): boolean {
  return (
    /^\/(private|shared)(\/[^/*%\x00-\x1f\x7f]+)*$/.test(entry) &&
    !entry.endsWith("/") &&
    entry.length <= 1024
  );
}

/** Whether `key` answers a request for `entry` at `depth` (RFC 5464 §4.2.2). */
function matches(key: string, entry: string, depth: "0" | "1" | "infinity"): boolean {
  if (key === entry) return true;
  if (depth === "0" || !key.startsWith(`${entry}/`)) return false;
  return depth === "infinity" || !key.slice(entry.length + 1).includes("/");
}

export const getmetadata: CommandSpec<"GETMETADATA"> = {
  states: AUTHED,
  async run(s, cmd) {
    const entries = cmd.entries.map((e) => e.toLowerCase());
    if (entries.some((e) => !validEntry(e))) return bad("Invalid entry name.");
    const now = Math.floor(Date.now() / 1000);
    const found = new Map<string, string>();
    if (cmd.mailbox === "") {
      for (const entry of entries) {
        for (const key of SERVER_ENTRIES) {
          if (found.has(key) || !matches(key, entry, cmd.options.depth)) continue;
          const value = serverValue(s.ctx.config, key, now);
          if (value !== null) found.set(key, value);
        }
      }
    } else {
      const mb = await s.ctx.store.getMailbox(s.user, cmd.mailbox);
      if (!mb) return no("Mailbox doesn't exist.", "NONEXISTENT");
      if (mb.name === "INBOX" && entries.some((e) => matches(DEVICETOKEN, e, cmd.options.depth))) {
        const tokens = await validDeviceTokens(s, now);
        if (tokens.length > 0) found.set(DEVICETOKEN, tokens.join(" "));
      }
    }
    let longest = 0;
    const r = new Response().text("* METADATA ").string(cmd.mailbox).text(" (");
    let first = true;
    for (const [key, value] of found) {
      const size = Buffer.byteLength(value);
      if (cmd.options.maxSize !== null && size > cmd.options.maxSize) {
        longest = Math.max(longest, size);
        continue;
      }
      r.text(first ? key : ` ${key}`)
        .text(" ")
        .string(value);
      first = false;
    }
    if (!first) s.write(r.text(")").build());
    // RFC 5464 §4.2.1: entries left out for MAXSIZE are reported with LONGENTRIES.
    if (longest > 0) return ok("Getmetadata completed.", `METADATA LONGENTRIES ${longest}`);
    return ok("Getmetadata completed.");
  },
};

export const setmetadata: CommandSpec<"SETMETADATA"> = {
  states: AUTHED,
  async run(s, cmd) {
    const tokens: string[] = [];
    for (const [rawEntry, value] of cmd.entries) {
      const entry = rawEntry.toLowerCase();
      if (!validEntry(entry)) return bad("Invalid entry name.");
      if (cmd.mailbox !== "INBOX" || entry !== DEVICETOKEN) return no("Permission denied.");
      if (value === null) continue;
      if (value.length > MAX_TOKEN) return no("Value too long.", `METADATA MAXSIZE ${MAX_TOKEN}`);
      const token = value.toString("utf8");
      // Tokens are returned space-joined, so a token can hold no white space.
      if (token.length === 0 || /[\s\x00-\x1f\x7f]/.test(token)) return no("Invalid device token.");
      tokens.push(token);
    }
    const now = Math.floor(Date.now() / 1000);
    for (const token of tokens) await s.ctx.store.setDeviceToken(s.user, token, now, MAX_TOKENS_PER_ACCOUNT);
    return ok("Setmetadata completed.");
  },
};
