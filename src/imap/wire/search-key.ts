/** SEARCH criteria (RFC 3501 §6.4.4, §9 search-key) and dates (§9 date). */
import type { Reader } from "./reader.ts";
import { parseSequenceSet } from "./sequence.ts";
import type { SearchKey } from "./types.ts";

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const MAX_DEPTH = 64;

/** Month index 0..11 of a three-letter English month name, or -1. */
export function monthIndex(name: string): number {
  return MONTHS.indexOf(name.toUpperCase());
}

function digits(r: Reader, min: number, max: number): number {
  const start = r.pos;
  while (!r.done && r.peek() >= 0x30 && r.peek() <= 0x39 && r.pos - start < max) r.pos++;
  if (r.pos - start < min) r.fail("expected digits");
  return Number(r.buf.toString("latin1", start, r.pos));
}

/** date-text = date-day "-" date-month "-" date-year → UTC midnight in ms. */
function dateText(r: Reader): number {
  const day = digits(r, 1, 2);
  r.expect("-");
  const mon = monthIndex(r.buf.toString("latin1", r.pos, r.pos + 3));
  if (mon < 0) r.fail("bad month");
  r.pos += 3;
  r.expect("-");
  const year = digits(r, 4, 4);
  if (day < 1 || day > 31) r.fail("bad day");
  return Date.UTC(year, mon, day);
}

/** date = date-text / DQUOTE date-text DQUOTE */
export function parseDate(r: Reader): number {
  if (r.take('"')) {
    const d = dateText(r);
    r.expect('"');
    return d;
  }
  return dateText(r);
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};

const HEADER_KEYS: Record<string, string> = {
  BCC: "bcc",
  CC: "cc",
  FROM: "from",
  SUBJECT: "subject",
  TO: "to",
};

const DATE_KEYS: Record<string, [boolean, "before" | "on" | "since"]> = {
  BEFORE: [false, "before"],
  ON: [false, "on"],
  SINCE: [false, "since"],
  SENTBEFORE: [true, "before"],
  SENTON: [true, "on"],
  SENTSINCE: [true, "since"],
};

export function parseSearchKey(r: Reader, depth = 0): SearchKey {
  if (depth > MAX_DEPTH) r.fail("search criteria nested too deeply");
  const c = r.peek();
  if (c === 0x28) {
    const keys = r.list(() => parseSearchKey(r, depth + 1), false);
    return keys.length === 1 ? keys[0]! : { op: "and", keys };
  }
  if ((c >= 0x30 && c <= 0x39) || c === 0x2a) return { op: "seq", set: parseSequenceSet(r) };
  const word = r.keyword();
  const flag = FLAG_KEYS[word];
  if (flag) return { op: "flag", flag: flag[0], present: flag[1] };
  const header = HEADER_KEYS[word];
  if (header) {
    r.sp();
    return { op: "header", field: header, value: r.astring() };
  }
  const date = DATE_KEYS[word];
  if (date) {
    r.sp();
    return { op: "date", sent: date[0], cmp: date[1], day: parseDate(r) };
  }
  switch (word) {
    case "ALL":
      return { op: "all" };
    case "NEW":
      return { op: "new" };
    case "OLD":
      return { op: "old" };
    case "RECENT":
      return { op: "recent" };
    case "KEYWORD":
    case "UNKEYWORD":
      r.sp();
      return { op: "flag", flag: r.flag(), present: word === "KEYWORD" };
    case "BODY":
      r.sp();
      return { op: "body", value: r.astring() };
    case "TEXT":
      r.sp();
      return { op: "text", value: r.astring() };
    case "HEADER": {
      r.sp();
      const field = r.astring().toLowerCase();
      r.sp();
      return { op: "header", field, value: r.astring() };
    }
    case "LARGER":
    case "SMALLER":
      r.sp();
      return { op: "size", larger: word === "LARGER", n: r.number() };
    case "UID":
      r.sp();
      return { op: "uid", set: parseSequenceSet(r) };
    case "NOT":
      r.sp();
      return { op: "not", key: parseSearchKey(r, depth + 1) };
    case "OR": {
      r.sp();
      const a = parseSearchKey(r, depth + 1);
      r.sp();
      const b = parseSearchKey(r, depth + 1);
      return { op: "or", a, b };
    }
    default:
      return r.fail(`unknown search key ${word}`);
  }
}

/** 1*(SP search-key) after the command name (and CHARSET), combined with AND. */
export function parseSearchKeys(r: Reader): SearchKey {
  const keys: SearchKey[] = [];
  while (!r.done) {
    r.sp();
    keys.push(parseSearchKey(r));
  }
  if (keys.length === 0) r.fail("missing search criteria");
  return keys.length === 1 ? keys[0]! : { op: "and", keys };
}
