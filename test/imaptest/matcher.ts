/**
 * imaptest's response matching: `$var` capture and compare, `$` wildcard,
 * `$N` relative sequence numbers, `${case:X}`, `$modseqN` ordering, and the
 * `$!` list directives (`unordered[=n]`, `ordered`, `noextra`, `extra`,
 * `ignore=x`, `ban=x`). Comparison is ASCII case-insensitive unless `${case:}`.
 */
import { asciiUpper, astringOf, atomOf, equalsIgnoreCase, type ImapArg } from "./args.ts";

/** Returned by the matchers for a full match; otherwise they return how many elements matched. */
export const FULL = Number.POSITIVE_INFINITY;

export class MatchEnv {
  readonly vars = new Map<string, string>();
  /** Variables captured during the current match attempt (reverted when it fails). */
  added: string[] = [];
  /** Initial sequence (index+1) → current sequence, 0 once expunged. */
  seqmap: number[] = [];
  private modseqIdx = 0;
  private modseqValue = 0n;

  /** Starts a command group: `$N` refers to the N-th of `count` messages as they were now. */
  resetSeqmap(count: number): void {
    this.seqmap = Array.from({ length: count }, (_, i) => i + 1);
  }

  /** Applies an untagged EXPUNGE to the relative sequence map. */
  expunge(seq: number): void {
    const seqs = this.seqmap;
    // Sequences above the initial count may come after an EXISTS; ignore them.
    if (seq > seqs.length || seq === 0) return;
    for (let i = seq - 1; i < seqs.length; i++) {
      if (seqs[i]! >= seq) {
        if (seqs[i] === seq) seqs[i] = 0;
        else seqs[i]!--;
      }
    }
  }

  relativeSeq(seq: number): string {
    if (seq === 0) return "<zero seq>";
    if (seq > this.seqmap.length) return "<out of range>";
    const cur = this.seqmap[seq - 1]!;
    return cur === 0 ? "<expunged>" : String(cur);
  }

  revertAdded(): void {
    for (const name of this.added) this.vars.delete(name);
    this.added = [];
  }

  /** `$modseqN`: values must grow at least as much as the index does. */
  newModseq(idx: number, raw: string): string {
    if (!/^\d+$/.test(raw)) return "$modseq-not-number";
    if (this.modseqIdx > idx) return "$modseq-order-mismatch";
    let value = BigInt(raw);
    const atLeast = this.modseqValue + BigInt(idx - this.modseqIdx);
    let out = raw;
    if (value < atLeast) {
      out = `$modseq-at-least-${atLeast}`;
      value = atLeast;
    }
    this.modseqIdx = idx;
    this.modseqValue = value;
    return out;
  }
}

const isVarChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** imaptest compares C strings: nothing after a NUL octet takes part. */
function cstr(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

function uint32(s: string): number | null {
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : null;
}

function readVarName(s: string, pos: number): { name: string; end: number } | null {
  if (s[pos] === "{") {
    const close = s.indexOf("}", pos + 1);
    if (close < 0) return null;
    return { name: s.slice(pos + 1, close), end: close + 1 };
  }
  let end = pos;
  while (isVarChar(s[end])) end++;
  return { name: s.slice(pos, end), end };
}

export type ExpandResult = { ok: true; text: string } | { ok: false; error: string };

/**
 * Expands `$vars` in a command line (test_expand_all): `$$` is `$`, `$!x` is
 * dropped, `$N` is a relative sequence. Unset variables are an error, or kept as
 * `$` when `keepUnset` (for messages).
 */
export function expandAll(env: MatchEnv, line: string, keepUnset = false): ExpandResult {
  let out = "";
  let i = 0;
  while (i < line.length) {
    if (line[i] !== "$" || i === line.length - 1) {
      out += line[i++];
      continue;
    }
    i++;
    if (line[i] === "$") {
      out += "$";
      i++;
      continue;
    }
    if (line[i] === "!") {
      while (i + 1 < line.length && line[i + 1] !== " ") i++;
      i++;
      continue;
    }
    const v = readVarName(line, i);
    if (v === null) return { ok: false, error: "Missing '}'" };
    i = v.end;
    const seq = uint32(v.name);
    let value: string | undefined;
    if (seq !== null) value = env.relativeSeq(seq);
    else value = env.vars.get(v.name);
    if (value === undefined) {
      if (!keepUnset) return { ok: false, error: `Uninitialized variable: ${v.name}` };
      value = "$";
    }
    out += value;
  }
  return { ok: true, text: out };
}

/**
 * Matches one pattern string against one input string (test_expand_input):
 * returns the expanded pattern for the final comparison, or null on a mismatch
 * found while expanding. Captures unset variables from the input.
 */
export function expandInput(
  env: MatchEnv,
  str: string,
  input: string,
): { text: string; icase: boolean } | null {
  let icase = true;
  let out = "";
  let s = 0;
  let p = 0;
  while (s < str.length) {
    if (str[s] !== "$" || str[s + 1] === "$") {
      if (str[s] === "$") s++;
      const c = str[s]!;
      if (p >= input.length || asciiUpper(c) !== asciiUpper(input[p]!)) return null;
      p++;
      out += c;
      s++;
      continue;
    }
    s++;
    const v = readVarName(str, s);
    if (v === null) return { text: "", icase };
    s = v.end;
    const name = v.name;
    let value: string | undefined;
    const seq = uint32(name);
    if (seq !== null) {
      value = env.relativeSeq(seq);
    } else if (name.startsWith("case:")) {
      value = name.slice(5);
      icase = false;
    } else {
      value = name === "" ? undefined : env.vars.get(name);
      if (value === undefined) {
        // Capture up to the first input char equal to the pattern's next char.
        let stop = "";
        let stopIcase = true;
        if (str[s] !== "$") {
          stop = str[s] ?? "";
        } else {
          const r = expandInput(env, str.slice(s), input.slice(p));
          stop = r?.text[0] ?? "";
          stopIcase = r?.icase ?? true;
        }
        let q = p;
        if (stop === "") q = input.length;
        else if (stopIcase) while (q < input.length && asciiUpper(input[q]!) !== asciiUpper(stop)) q++;
        else while (q < input.length && input[q] !== stop) q++;
        const captured = input.slice(p, q);
        const modseq = /^modseq(\d+)$/.exec(name);
        if (name === "") {
          value = captured;
        } else if (modseq && uint32(modseq[1]!) !== null) {
          value = env.newModseq(Number(modseq[1]), captured);
          env.vars.set(name, value);
        } else {
          env.vars.set(name, captured);
          env.added.push(name);
          value = captured;
        }
      }
    }
    out += value;
    for (const c of value) {
      if (input[p] !== c) return null;
      p++;
    }
  }
  return { text: out, icase };
}

/**
 * Matches `match[mi..]` against `args[ai..]`, at most `max` elements
 * (test_imap_match_args). With `prefix` the last pattern element only needs to
 * be a prefix and trailing input is allowed (resp-text after a status word).
 */
export function matchArgs(
  env: MatchEnv,
  match: readonly ImapArg[],
  args: readonly ImapArg[],
  prefix: boolean,
  mi = 0,
  ai = 0,
  max = FULL,
): number {
  let ret = 0;
  for (; mi < match.length && max > 0; mi++, ai++, max--) {
    const m = match[mi]!;
    const a = args[ai];
    switch (m.type) {
      case "nil":
        if (a?.type !== "nil") return ret;
        break;
      case "atom":
      case "string":
      case "literal": {
        if (m.value === "$" && a?.type === "list") break; // "$" skips over a list
        if (m.value === "$]") {
          // "$]" skips until ']', e.g. * OK [CAPABILITY $] Capabilities.
          while (atomOf(args[ai]) !== null && !atomOf(args[ai])!.includes("]")) ai++;
          break;
        }
        const raw = astringOf(a);
        if (raw === null) return ret;
        const astr = cstr(raw);
        const exp = expandInput(env, cstr(m.value), astr);
        if (exp === null) return ret;
        if (prefix && mi === match.length - 1) {
          const head = astr.slice(0, exp.text.length);
          if (exp.icase ? !equalsIgnoreCase(head, exp.text) : head !== exp.text) return ret;
        } else if (exp.icase ? !equalsIgnoreCase(astr, exp.text) : astr !== exp.text) {
          return ret;
        }
        break;
      }
      case "list": {
        if (a?.type !== "list") return ret;
        const sub = matchList(env, m.items, a.items);
        if (sub !== FULL) return ret + sub;
        break;
      }
    }
    ret++;
  }
  if (prefix || ai >= args.length || max === 0) return FULL;
  return ret;
}

/** Matches a list, honouring its leading `$!` directives (test_imap_match_list). */
export function matchList(env: MatchEnv, match: readonly ImapArg[], args: readonly ImapArg[]): number {
  let unordered = false;
  let chain = 1;
  let noextra = -1;
  const ignores: string[] = [];
  const bans: string[] = [];
  let d = 0;
  for (; d < match.length; d++) {
    const a = atomOf(match[d]);
    if (a === null || !a.startsWith("$!")) break;
    const s = a.slice(2);
    if (s.startsWith("unordered")) {
      unordered = true;
      if (noextra === -1) noextra = 0;
      if (s[9] === "=") chain = Number.parseInt(s.slice(10), 10) || 1;
    } else if (s === "ordered") unordered = false;
    else if (s === "extra") noextra = 0;
    else if (s === "noextra") noextra = 1;
    else if (s.startsWith("ignore=")) ignores.push(s.slice(7));
    else if (s.startsWith("ban=")) bans.push(s.slice(4));
  }
  if (noextra === -1) noextra = 1;
  if (!unordered) return matchArgs(env, match, args, false, d);

  if (args.length % chain !== 0) return 0;
  const matched = new Array<boolean>(args.length).fill(false);
  let ret = 0;
  for (let mi = d; mi < match.length; mi += chain, ret++) {
    let i = 0;
    for (; i < args.length; i += chain) {
      if (matchArgs(env, match, args, false, mi, i, chain) === FULL) {
        matched[i] = true;
        break;
      }
    }
    if (i >= args.length) return ret;
  }
  for (let i = 0; i < args.length; i += chain) {
    if (matched[i]) continue;
    const str = astringOf(args[i]);
    if (str === null) continue;
    if (noextra > 0) {
      if (!ignores.some((x) => equalsIgnoreCase(x, str))) return ret;
    } else if (bans.some((x) => equalsIgnoreCase(x, str))) {
      return ret;
    }
  }
  return FULL;
}
