/**
 * The FETCH expectations of a parsed script, item by item: for every command
 * with an inline `ok`, the `*` (must) and `!` (must not) untagged
 * `n FETCH (...)` replies listed for it, each split into `key value` pairs.
 * Used to recompute FETCH items from the script's mbox without a server.
 */
import { atomOf, type ImapArg } from "./args.ts";
import type { Script } from "./script.ts";

export interface FetchExpectation {
  /** The FETCH command's text, e.g. `fetch 1 (body.peek[1]<0.3>)`. */
  command: string;
  /** Sequence number of the message. */
  seq: number;
  /** true for `*` (must be sent), false for `!` (must not be sent). */
  must: boolean;
  /** Item name as written (`body[header.fields (from)]<0>`) and its expected value. */
  items: Array<[key: string, value: ImapArg]>;
}

const isDirective = (a: ImapArg): boolean => a.type === "atom" && a.value.startsWith("$!");

/**
 * An expected value as IMAP text (RFC 3501 §4): lists in parentheses, strings
 * quoted; the list directives the parser adds are left out.
 */
export function argText(a: ImapArg): string {
  if (a.type === "list") return `(${listText(a.items)})`;
  if (a.type === "string") return `"${a.value.replace(/[\\"]/g, (x) => `\\${x}`)}"`;
  if (a.type === "literal") return `${a.binary ? "~" : ""}{${a.value.length}}\r\n${a.value}`;
  return atomOf(a) ?? "";
}

/**
 * Items of a list as IMAP writes them: lists follow each other without a space
 * only in `1*address` (a list of addresses) and `1*body` (the parts that open a
 * multipart body), RFC 3501 §9; everything else is separated by SP.
 */
function listText(list: readonly ImapArg[]): string {
  const items = list.filter((x) => !isDirective(x));
  const allLists = items.every((x) => x.type === "list");
  let out = "";
  let leading = true;
  items.forEach((x, i) => {
    const joined = x.type === "list" && i > 0 && items[i - 1]!.type === "list" && (allLists || leading);
    if (x.type !== "list") leading = false;
    if (i > 0 && !joined) out += " ";
    out += argText(x);
  });
  return out;
}

/**
 * `key value` pairs of a FETCH list. The script tokenizer splits a section at
 * its field list (`body[header.fields`, `(from)`, `]`), so a key that opens
 * `[` runs on to the atom that closes it.
 */
function itemPairs(list: readonly ImapArg[]): Array<[string, ImapArg]> {
  const args = list.filter((a) => !isDirective(a));
  const out: Array<[string, ImapArg]> = [];
  let i = 0;
  while (i < args.length) {
    const first = args[i++]!;
    let key = argText(first);
    if (first.type === "atom" && key.includes("[") && !key.includes("]")) {
      while (i < args.length) {
        const next = args[i++]!;
        const text = argText(next);
        key += next.type === "atom" && text.startsWith("]") ? text : ` ${text}`;
        if (text.includes("]")) break;
      }
    }
    const value = args[i++];
    if (value === undefined) break;
    out.push([key, value]);
  }
  return out;
}

/** The FETCH replies a script expects, with the command each answers. */
export function fetchExpectations(script: Script): FetchExpectation[] {
  const out: FetchExpectation[] = [];
  for (const group of script.groups) {
    const command = group.commands[group.commands.length - 1]?.text ?? "";
    if (!/^fetch /i.test(command)) continue;
    for (const u of group.untagged ?? []) {
      if (u.existence === "may") continue;
      const [seq, name, list] = u.args;
      if (seq?.type !== "atom" || !/^\d+$/.test(seq.value)) continue;
      if (name?.type !== "atom" || name.value.toLowerCase() !== "fetch" || list?.type !== "list") continue;
      out.push({
        command,
        seq: Number(seq.value),
        must: u.existence === "must",
        items: itemPairs(list.items),
      });
    }
  }
  return out;
}
