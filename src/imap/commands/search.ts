/**
 * SEARCH / UID SEARCH (RFC 3501 §6.4.4, §6.4.8). Criteria on flags, sizes, dates
 * and UIDs use the records only; header and text criteria read and parse a
 * message only when evaluation reaches them. String matching is a
 * case-insensitive substring test on decoded text; address fields (From, To,
 * Cc, Bcc) also match their parsed form "Name <mailbox@domain>", so comments and
 * quoting do not hide an address. CHARSET may be UTF-8 or US-ASCII.
 */
import type { MessageRecord } from "../../store/types.ts";
import { parseAddressList } from "../mime/address.ts";
import { decodeEncodedWords } from "../mime/charset.ts";
import { fullValue } from "../mime/fields.ts";
import { bodyText, headerValues } from "../mime/header.ts";
import { type MimePart, parseMessage } from "../mime/parse.ts";
import type { Session } from "../session.ts";
import { coalesceSequenceSet, inCoalesced, type SequenceSet } from "../wire/sequence.ts";
import type { SearchKey } from "../wire/types.ts";
import { type CommandSpec, no, ok, SELECTED } from "./types.ts";

const DAY = 86400000;

interface Candidate {
  seq: number;
  rec: MessageRecord;
  raw?: Buffer;
  root?: MimePart;
}

interface Context {
  s: Session;
  count: number;
  maxUid: number;
}

// A set is coalesced once per command (its `*` is fixed for the command), then each
// message is a binary search: a set of thousands of ranges costs O(r log r + m log r).
const coalesced = new WeakMap<SequenceSet, { max: number; ranges: Array<[number, number]> }>();

function inSet(set: SequenceSet, n: number, max: number): boolean {
  let c = coalesced.get(set);
  if (c === undefined || c.max !== max)
    coalesced.set(set, (c = { max, ranges: coalesceSequenceSet(set, max) }));
  return inCoalesced(c.ranges, n);
}

function dayOf(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

function compareDay(day: number, cmp: "before" | "on" | "since", key: number): boolean {
  if (cmp === "before") return day < key;
  if (cmp === "on") return day === key;
  return day >= key;
}

async function content(ctx: Context, c: Candidate): Promise<{ raw: Buffer; root: MimePart }> {
  c.raw ??= await ctx.s.ctx.store.readBlob(c.rec.blobId);
  c.root ??= parseMessage(c.raw);
  return { raw: c.raw, root: c.root };
}

const ADDRESS_FIELDS = new Set(["from", "to", "cc", "bcc", "sender", "reply-to"]);

/** An address field as "Name <mailbox@domain>, ..." (groups by their name), per occurrence. */
function addressValues(raw: Buffer, root: MimePart, field: string): string[] {
  const out: string[] = [];
  for (const f of root.fields) {
    if (f.name.toLowerCase() !== field) continue;
    const parts = parseAddressList(fullValue(raw, f)).map((a) => {
      if (a.domain === null) return a.mailbox ?? "";
      const name = a.name ? `${decodeEncodedWords(a.name)} ` : "";
      return `${name}<${a.mailbox ?? ""}@${a.domain}>`;
    });
    out.push(parts.join(", "));
  }
  return out;
}

function contains(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/** Date of the Date: header (its calendar day as written, RFC 3501 §6.4.4), or null. */
function sentDay(raw: Buffer, root: MimePart): number | null {
  const value = headerValues(raw, root, "date")[0];
  if (!value) return null;
  const m = /(\d{1,2})\s+([A-Za-z]{3})\w*\s+(\d{2,4})/.exec(value);
  if (m) {
    const mon = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].indexOf(
      m[2]!.toLowerCase(),
    );
    let year = Number(m[3]);
    if (year < 100) year += year < 50 ? 2000 : 1900;
    if (mon >= 0) return Date.UTC(year, mon, Number(m[1]));
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : dayOf(t);
}

async function matches(ctx: Context, c: Candidate, key: SearchKey): Promise<boolean> {
  switch (key.op) {
    case "all":
      return true;
    case "flag":
      if (key.flag === "\\Recent") return ctx.s.view!.isRecent(c.rec.uid) === key.present;
      return c.rec.flags.includes(key.flag) === key.present;
    case "recent":
      return ctx.s.view!.isRecent(c.rec.uid);
    case "new":
      return ctx.s.view!.isRecent(c.rec.uid) && !c.rec.flags.includes("\\Seen");
    case "old":
      return !ctx.s.view!.isRecent(c.rec.uid);
    case "size":
      return key.larger ? c.rec.size > key.n : c.rec.size < key.n;
    case "uid":
      return inSet(key.set, c.rec.uid, ctx.maxUid);
    case "seq":
      return inSet(key.set, c.seq, ctx.count);
    case "not":
      return !(await matches(ctx, c, key.key));
    case "or":
      return (await matches(ctx, c, key.a)) || (await matches(ctx, c, key.b));
    case "and":
      for (const k of key.keys) if (!(await matches(ctx, c, k))) return false;
      return true;
    case "date": {
      if (!key.sent) return compareDay(dayOf(c.rec.internalDate), key.cmp, key.day);
      const { raw, root } = await content(ctx, c);
      const day = sentDay(raw, root);
      return day !== null && compareDay(day, key.cmp, key.day);
    }
    case "header": {
      const { raw, root } = await content(ctx, c);
      const values = headerValues(raw, root, key.field, { decode: true });
      // RFC 3501 §6.4.4: HEADER with an empty string matches every message that has the field.
      if (key.value === "") return values.length > 0;
      if (values.some((v) => contains(v, key.value))) return true;
      return (
        ADDRESS_FIELDS.has(key.field) &&
        addressValues(raw, root, key.field).some((v) => contains(v, key.value))
      );
    }
    case "body": {
      const { raw, root } = await content(ctx, c);
      return contains(bodyText(raw, root), key.value);
    }
    case "text": {
      const { raw, root } = await content(ctx, c);
      const header = raw.toString("utf8", root.headerStart, root.headerEnd);
      return contains(header, key.value) || contains(bodyText(raw, root), key.value);
    }
  }
}

export const search: CommandSpec<"SEARCH"> = {
  states: SELECTED,
  async run(s, cmd) {
    if (cmd.charset !== null && !["UTF-8", "US-ASCII"].includes(cmd.charset.toUpperCase())) {
      return no("Unsupported charset.", "BADCHARSET (UTF-8 US-ASCII)");
    }
    if (cmd.returns !== null) return no("ESEARCH is not supported.", "CANNOT");
    const v = s.view!;
    const records = new Map((await s.ctx.store.listMessages(v.mailboxId)).map((r) => [r.uid, r]));
    const ctx: Context = { s, count: v.count, maxUid: v.uids.length > 0 ? v.uids[v.uids.length - 1]! : 0 };
    const hits: number[] = [];
    for (let i = 0; i < v.uids.length; i++) {
      const uid = v.uids[i]!;
      const rec = records.get(uid);
      if (!rec || v.isExpunged(uid)) continue;
      let match = false;
      try {
        match = await matches(ctx, { seq: i + 1, rec }, cmd.key);
      } catch {
        match = false; // body file gone with a concurrent expunge
      }
      if (match) hits.push(cmd.uid ? uid : i + 1);
    }
    s.write(hits.length > 0 ? `* SEARCH ${hits.join(" ")}\r\n` : "* SEARCH\r\n");
    return ok("Search completed.");
  },
  // RFC 3501 §7.4.1: no EXPUNGE while responding to SEARCH (sequence numbers).
  expunge: (cmd) => cmd.uid,
};
