/** Small argument grammars shared by commands: mailbox names, tags, date-time (RFC 3501 §9). */
import type { Reader } from "./reader.ts";
import { monthIndex } from "./search-key.ts";

/** "inbox" in any case is INBOX, also as the first hierarchy level (RFC 3501 §5.1). */
export function normalizeMailbox(name: string): string {
  if (name.length < 5) return name;
  const head = name.slice(0, 5).toUpperCase();
  if (head !== "INBOX") return name;
  if (name.length === 5) return "INBOX";
  if (name[5] === "/") return `INBOX${name.slice(5)}`;
  return name;
}

export function mailbox(r: Reader): string {
  return normalizeMailbox(r.astring());
}

/** tag = 1*<any ASTRING-CHAR except "+"> */
export function tag(r: Reader): string {
  const t = r.atom("]");
  // RFC 3501 §9: tag chars are ASTRING-CHARs, which are 7-bit (CHAR); atoms here also take 8-bit.
  if (t.includes("+") || /[^\x21-\x7e]/.test(t)) r.fail("bad tag");
  return t;
}

function twoDigits(r: Reader): number {
  const a = r.peek();
  const b = r.buf[r.pos + 1] ?? -1;
  if (a < 0x30 || a > 0x39 || b < 0x30 || b > 0x39) r.fail("expected two digits");
  r.pos += 2;
  return (a - 0x30) * 10 + (b - 0x30);
}

/**
 * date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
 * (RFC 3501 §9) → Unix milliseconds.
 */
export function parseDateTime(r: Reader): number {
  r.expect('"');
  let day: number;
  if (r.take(" ")) {
    const d = r.peek();
    if (d < 0x30 || d > 0x39) r.fail("bad day");
    r.pos++;
    day = d - 0x30;
  } else {
    day = twoDigits(r);
  }
  r.expect("-");
  const mon = monthIndex(r.buf.toString("latin1", r.pos, r.pos + 3));
  if (mon < 0) r.fail("bad month");
  r.pos += 3;
  r.expect("-");
  const year = twoDigits(r) * 100 + twoDigits(r);
  r.sp();
  const hh = twoDigits(r);
  r.expect(":");
  const mm = twoDigits(r);
  r.expect(":");
  const ss = twoDigits(r);
  r.sp();
  const sign = r.take("+") ? 1 : r.take("-") ? -1 : r.fail("bad zone");
  const zh = twoDigits(r);
  const zm = twoDigits(r);
  r.expect('"');
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zm > 59) r.fail("bad date-time");
  return Date.UTC(year, mon, day, hh, mm, ss) - sign * (zh * 60 + zm) * 60000;
}
