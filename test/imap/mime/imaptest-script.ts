// Reads Dovecot imaptest scripts and their mbox files (format: see the
// fixtures' README) far enough to pull out the expected FETCH items.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export const IMAPTEST_DIR = join(import.meta.dirname, "../../fixtures/imaptest/tests");

const toCrlf = (s: string): string => s.replace(/\r?\n/g, "\r\n");

/** The messages of an mbox file, as imaptest appends them (CRLF line ends). */
export function readMbox(name: string): Buffer[] {
  const text = readFileSync(join(IMAPTEST_DIR, name), "latin1");
  const out: Buffer[] = [];
  const parts = text.split(/^From [^\n]*\n/m);
  for (const p of parts.slice(1)) out.push(Buffer.from(toCrlf(p), "latin1"));
  return out;
}

export type Value =
  | { kind: "list"; text: string }
  | { kind: "string"; bytes: Buffer }
  | { kind: "var"; name: string }
  | { kind: "atom"; text: string };

export interface FetchExpectation {
  /** The FETCH command's item text. */
  command: string;
  /** Sequence number of the message. */
  seq: number;
  /** true for `*` (must be sent), false for `!` (must not be sent). */
  must: boolean;
  items: Array<[key: string, value: Value]>;
}

class Reader {
  pos = 0;
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.pos] ?? "";
  }
  skipSpaces(): void {
    while (this.peek() === " ") this.pos++;
  }
  key(): string {
    let depth = 0;
    const start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos];
      if (c === "[") depth++;
      else if (c === "]") depth--;
      else if ((c === " " || c === ")") && depth === 0) break;
      this.pos++;
    }
    return this.s.slice(start, this.pos);
  }
  value(): Value {
    const c = this.peek();
    if (c === "(") {
      const start = this.pos;
      let depth = 0;
      let quoted = false;
      for (; this.pos < this.s.length; this.pos++) {
        const ch = this.s[this.pos];
        if (quoted) {
          if (ch === "\\") this.pos++;
          else if (ch === '"') quoted = false;
        } else if (ch === '"') quoted = true;
        else if (ch === "(") depth++;
        else if (ch === ")" && --depth === 0) break;
      }
      this.pos++;
      return { kind: "list", text: this.s.slice(start, this.pos) };
    }
    if (c === '"') {
      let out = "";
      for (this.pos++; this.pos < this.s.length && this.peek() !== '"'; this.pos++) {
        if (this.peek() === "\\") this.pos++;
        out += this.peek();
      }
      this.pos++;
      return { kind: "string", bytes: Buffer.from(out, "latin1") };
    }
    if (this.s.startsWith("{{{\n", this.pos) || this.s.startsWith("~{{{\n", this.pos)) {
      const binary = c === "~";
      this.pos = this.s.indexOf("\n", this.pos) + 1;
      const end = this.s.indexOf("\n}}}", this.pos - 1);
      let body = this.s.slice(this.pos, end);
      this.pos = end + 4;
      if (!binary) body = body.replace(/(?<!\r)\n/g, "\r\n");
      return { kind: "string", bytes: Buffer.from(body, "latin1") };
    }
    const start = this.pos;
    while (this.pos < this.s.length && this.peek() !== " " && this.peek() !== ")") this.pos++;
    const text = this.s.slice(start, this.pos);
    return text.startsWith("$") ? { kind: "var", name: text } : { kind: "atom", text };
  }
}

/** The `ok fetch` commands of a script with their expected untagged FETCH replies. */
export function readFetchExpectations(name: string): FetchExpectation[] {
  const text = readFileSync(join(IMAPTEST_DIR, name), "latin1");
  const body = text.slice(text.indexOf("\n\n") + 2);
  const out: FetchExpectation[] = [];
  let command = "";
  const re = /^(?:ok (fetch .*)|([*!]) (\d+) fetch \()/gim;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    if (m[1] !== undefined) {
      command = m[1];
      continue;
    }
    const r = new Reader(body);
    r.pos = m.index + m[0].length;
    const items: Array<[string, Value]> = [];
    for (;;) {
      r.skipSpaces();
      if (r.peek() === ")" || r.peek() === "") break;
      const key = r.key();
      r.skipSpaces();
      items.push([key, r.value()]);
    }
    re.lastIndex = r.pos;
    out.push({ command, seq: Number(m[3]), must: m[2] === "*", items });
  }
  return out;
}
