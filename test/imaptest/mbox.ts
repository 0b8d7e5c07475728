/**
 * The message source of a scripted test: messages of an mbox file in order,
 * wrapping around at the end, each with CRLF line ends and the INTERNALDATE
 * taken from its `From ` separator line (as imaptest's mailbox-source-mbox).
 */

export interface MboxMessage {
  /** Message octets with LF converted to CRLF, as a latin1 string. */
  data: string;
  /** IMAP date-time (RFC 3501 §9 `date-time`) for APPEND. */
  internalDate: string;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Parses the part of an mbox `From ` line after "From " (mbox_from_parse):
 * `sender Www Mmm dd hh:mm[:ss] [TZ] yyyy [+hhmm]`. Without a zone the time is
 * local, as in Dovecot.
 */
export function parseFromLine(rest: string): string | null {
  const m =
    /^\S+\s+(?:[A-Za-z]{3},?\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([A-Za-z]{3,4}|[+-]\d{4})\s+)?(\d{4})(?:\s+([+-]\d{4}))?/.exec(
      rest,
    );
  if (!m) return null;
  const month = MONTHS.indexOf(m[1]!.toLowerCase());
  if (month < 0) return null;
  const day = Number(m[2]);
  const [hh, mm, ss] = [Number(m[3]), Number(m[4]), Number(m[5] ?? "0")];
  const year = Number(m[7]);
  let zone = m[8] ?? (m[6]?.match(/^[+-]\d{4}$/) ? m[6] : undefined);
  if (zone === undefined) {
    const off = -new Date(year, month, day, hh, mm, ss).getTimezoneOffset();
    const a = Math.abs(off);
    zone = `${off < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`;
  }
  const p2 = (n: number) => String(n).padStart(2, "0");
  const mon = MONTHS[month]!;
  return `${p2(day)}-${mon[0]!.toUpperCase()}${mon.slice(1)}-${year} ${p2(hh)}:${p2(mm)}:${p2(ss)} ${zone}`;
}

/** Splits an mbox into messages; a separator is a `From ` line that parses as one. */
export function parseMbox(mbox: Buffer): MboxMessage[] {
  const text = mbox.toString("latin1");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out: MboxMessage[] = [];
  let date: string | null = null;
  let body: string[] = [];
  const flush = () => {
    if (date !== null && body.length > 0) {
      const data = body.map((l) => (l.endsWith("\r") ? `${l}\n` : `${l}\r\n`)).join("");
      out.push({ data, internalDate: date });
    }
  };
  for (const line of lines) {
    const d = line.startsWith("From ") ? parseFromLine(line.slice(5).replace(/\r$/, "")) : null;
    if (d !== null) {
      flush();
      date = d;
      body = [];
    } else if (date !== null) {
      body.push(line);
    }
  }
  flush();
  return out;
}

/** A cursor over the messages that wraps around, shared by a test's connections. */
export class MboxSource {
  private readonly messages: MboxMessage[];
  private next = 0;

  constructor(mbox: Buffer) {
    this.messages = parseMbox(mbox);
    if (this.messages.length === 0) throw new Error("Empty or invalid mbox file");
  }

  /** True when the next message would wrap around to the first one. */
  get atEnd(): boolean {
    return this.next >= this.messages.length;
  }

  take(): MboxMessage {
    if (this.next >= this.messages.length) this.next = 0;
    return this.messages[this.next++]!;
  }
}
