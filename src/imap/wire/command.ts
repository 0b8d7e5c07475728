/**
 * The total command parser: one complete command (literals inline) → a typed
 * Command, or a typed error carrying the tag when it could be read. Grammar from
 * RFC 3501 §9 / RFC 9051 §9 plus the extensions chatrelay implements (RFC 2177
 * IDLE, 2971 ID, 3691 UNSELECT, 4315 UIDPLUS, 4978 COMPRESS, 5161 ENABLE, 5258
 * LIST-EXTENDED syntax, 5464 METADATA, 6851 MOVE, 9208 QUOTA).
 */

import { mailbox, parseDateTime, tag } from "./args.ts";
import { parseFetchAtts } from "./fetch-att.ts";
import { ParseError, Reader } from "./reader.ts";
import { parseSearchKeys } from "./search-key.ts";
import { parseSequenceSet } from "./sequence.ts";
import type { Command, MetadataOptions, ParseResult } from "./types.ts";

export { normalizeMailbox, parseDateTime } from "./args.ts";

function flagList(r: Reader): string[] {
  return r.list(() => r.flag());
}

function metadataOptions(r: Reader): MetadataOptions {
  const opts: MetadataOptions = { maxSize: null, depth: "0" };
  r.list(() => {
    const name = r.keyword();
    r.sp();
    if (name === "MAXSIZE") opts.maxSize = r.number();
    else if (name === "DEPTH") {
      const v = r.atom().toLowerCase();
      if (v !== "0" && v !== "1" && v !== "infinity") r.fail("bad DEPTH");
      opts.depth = v;
    } else r.fail(`unknown GETMETADATA option ${name}`);
    return name;
  }, false);
  return opts;
}

/** A LIST return option: an atom, optionally followed by a parenthesised parameter list (skipped). */
function listOption(r: Reader): string {
  const name = r.keyword();
  if (r.peek() === 0x20 && r.buf[r.pos + 1] === 0x28) {
    r.sp();
    r.list(() => r.atom());
  }
  return name;
}

function parseList(r: Reader): Command {
  r.sp();
  let select: string[] = [];
  let extended = false;
  if (r.peek() === 0x28) {
    select = r.list(() => r.keyword());
    extended = true;
    r.sp();
  }
  const reference = mailbox(r);
  r.sp();
  let patterns: string[];
  if (r.peek() === 0x28) {
    patterns = r.list(() => r.listMailbox(), false);
    extended = true;
  } else patterns = [r.listMailbox()];
  let returns: string[] = [];
  if (!r.done) {
    r.sp();
    if (!r.takeWord("RETURN")) r.fail("expected RETURN");
    r.sp();
    returns = r.list(() => listOption(r));
    extended = true;
  }
  return { name: "LIST", select, reference, patterns, returns, extended };
}

function parseStore(r: Reader, uid: boolean): Command {
  r.sp();
  const set = parseSequenceSet(r);
  r.sp();
  const mode = r.take("+") ? "add" : r.take("-") ? "remove" : "replace";
  const item = r.keyword();
  if (item !== "FLAGS" && item !== "FLAGS.SILENT") r.fail("expected FLAGS or FLAGS.SILENT");
  r.sp();
  let flags: string[];
  if (r.peek() === 0x28) flags = flagList(r);
  else {
    flags = [r.flag()];
    while (!r.done) {
      r.sp();
      flags.push(r.flag());
    }
  }
  return { name: "STORE", uid, set, mode, silent: item === "FLAGS.SILENT", flags };
}

function parseSearch(r: Reader, uid: boolean): Command {
  let charset: string | null = null;
  let returns: string[] | null = null;
  const save = r.pos;
  r.sp();
  if (r.takeWord("RETURN ")) {
    returns = r.list(() => r.keyword());
  } else r.pos = save;
  const save2 = r.pos;
  r.sp();
  if (r.takeWord("CHARSET ")) charset = r.astring();
  else r.pos = save2;
  return { name: "SEARCH", uid, charset, key: parseSearchKeys(r), returns };
}

function parseUid(r: Reader): Command {
  r.sp();
  const sub = r.keyword();
  switch (sub) {
    case "FETCH": {
      r.sp();
      const set = parseSequenceSet(r);
      r.sp();
      const { atts, macro } = parseFetchAtts(r);
      r.end();
      return { name: "FETCH", uid: true, set, atts, macro };
    }
    case "STORE":
      return parseStore(r, true);
    case "COPY":
    case "MOVE": {
      r.sp();
      const set = parseSequenceSet(r);
      r.sp();
      const mb = mailbox(r);
      r.end();
      return { name: sub, uid: true, set, mailbox: mb };
    }
    case "SEARCH":
      return parseSearch(r, true);
    case "EXPUNGE": {
      r.sp();
      const set = parseSequenceSet(r);
      r.end();
      return { name: "UID EXPUNGE", set };
    }
    default:
      return r.fail(`unknown UID command ${sub}`);
  }
}

function parseArgs(r: Reader, name: string): Command {
  switch (name) {
    case "CAPABILITY":
    case "NOOP":
    case "LOGOUT":
    case "STARTTLS":
    case "CHECK":
    case "CLOSE":
    case "UNSELECT":
    case "EXPUNGE":
    case "IDLE":
    case "NAMESPACE":
      return { name };
    case "AUTHENTICATE": {
      r.sp();
      const mechanism = r.keyword();
      let initial: string | null = null;
      if (!r.done) {
        r.sp();
        // SASL-IR (RFC 4959): base64 or "=" for an empty response.
        initial = r.atom("=");
      }
      return { name, mechanism, initial };
    }
    case "LOGIN": {
      r.sp();
      const user = r.astring();
      r.sp();
      return { name, user, password: r.astring() };
    }
    case "SELECT":
    case "EXAMINE":
    case "CREATE":
    case "DELETE":
    case "SUBSCRIBE":
    case "UNSUBSCRIBE":
    case "GETQUOTAROOT":
      r.sp();
      return { name, mailbox: mailbox(r) };
    case "RENAME": {
      r.sp();
      const from = mailbox(r);
      r.sp();
      return { name, from, to: mailbox(r) };
    }
    case "LIST":
      return parseList(r);
    case "LSUB": {
      r.sp();
      const reference = mailbox(r);
      r.sp();
      return { name, reference, pattern: r.listMailbox() };
    }
    case "STATUS": {
      r.sp();
      const mb = mailbox(r);
      r.sp();
      return { name, mailbox: mb, items: r.list(() => r.keyword(), false) };
    }
    case "APPEND": {
      r.sp();
      const mb = mailbox(r);
      r.sp();
      let flags: string[] = [];
      let date: number | null = null;
      if (r.peek() === 0x28) {
        flags = flagList(r);
        r.sp();
      }
      if (r.peek() === 0x22) {
        date = parseDateTime(r);
        r.sp();
      }
      if (r.peek() !== 0x7b) r.fail("expected message literal");
      return { name, mailbox: mb, flags, date, data: r.literalBytes() };
    }
    case "SEARCH":
      return parseSearch(r, false);
    case "FETCH": {
      r.sp();
      const set = parseSequenceSet(r);
      r.sp();
      const { atts, macro } = parseFetchAtts(r);
      return { name, uid: false, set, atts, macro };
    }
    case "STORE":
      return parseStore(r, false);
    case "COPY":
    case "MOVE": {
      r.sp();
      const set = parseSequenceSet(r);
      r.sp();
      return { name, uid: false, set, mailbox: mailbox(r) };
    }
    case "UID":
      return parseUid(r);
    case "ID": {
      r.sp();
      if (r.takeWord("NIL")) return { name, params: null };
      const params: Array<[string, string | null]> = [];
      r.list(() => {
        const key = r.astring();
        r.sp();
        const value = r.nstringBytes();
        params.push([key, value === null ? null : value.toString("utf8")]);
        return key;
      });
      return { name, params };
    }
    case "ENABLE": {
      const capabilities: string[] = [];
      do {
        r.sp();
        capabilities.push(r.atom());
      } while (!r.done);
      return { name, capabilities };
    }
    case "GETQUOTA":
      r.sp();
      return { name, root: r.astring() };
    case "SETQUOTA": {
      r.sp();
      const root = r.astring();
      r.sp();
      r.list(() => r.atom());
      return { name, root };
    }
    case "GETMETADATA": {
      r.sp();
      let options: MetadataOptions = { maxSize: null, depth: "0" };
      if (r.peek() === 0x28) {
        options = metadataOptions(r);
        r.sp();
      }
      const mb = mailbox(r);
      r.sp();
      const entries = r.peek() === 0x28 ? r.list(() => r.astring(), false) : [r.astring()];
      return { name, options, mailbox: mb, entries };
    }
    case "SETMETADATA": {
      r.sp();
      const mb = mailbox(r);
      r.sp();
      const entries: Array<[string, Buffer | null]> = [];
      r.list(() => {
        const entry = r.astring();
        r.sp();
        entries.push([entry, r.nstringBytes()]);
        return entry;
      }, false);
      return { name, mailbox: mb, entries };
    }
    case "COMPRESS":
      r.sp();
      return { name, mechanism: r.keyword() };
    default:
      return r.fail(`unknown command ${name}`);
  }
}

/** Parses one complete command. Never throws. */
export function parseCommand(buf: Buffer): ParseResult {
  const r = new Reader(buf);
  let t: string | null = null;
  let name = "";
  try {
    t = tag(r);
    r.sp();
    name = r.keyword();
    const command = parseArgs(r, name);
    r.end();
    return { ok: true, tag: t, command };
  } catch (err) {
    const why = err instanceof ParseError ? err.message : "malformed command";
    const error = name ? `Error in IMAP command ${name}: ${why}` : why;
    // The text may quote the client's bytes; a response line is printable US-ASCII (RFC 3501 §9 TEXT-CHAR).
    return { ok: false, tag: t, error: error.replace(/[^\x20-\x7e]/g, "?") };
  }
}

/** The tag of a line, if it has a syntactically valid one (for answering a line that is too long). */
export function peekTag(buf: Buffer): string | null {
  const r = new Reader(buf);
  try {
    const t = tag(r);
    return r.peek() === 0x20 ? t : null;
  } catch {
    return null;
  }
}

/** The upper-cased command name of a partial line ("a1 APPEND ..." → "APPEND"), or "". */
export function peekCommandName(buf: Buffer): string {
  const r = new Reader(buf);
  try {
    tag(r);
    r.sp();
    let name = r.keyword();
    if (name === "UID") {
      r.sp();
      name = `UID ${r.keyword()}`;
    }
    return name;
  } catch {
    return "";
  }
}
