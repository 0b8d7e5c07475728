/**
 * `$!` list directives of expected untagged replies. Without explicit ones,
 * imaptest adds defaults: `n FETCH ($!unordered=2 ...)`, FETCH FLAGS
 * `($!unordered $!noextra $!ignore=\recent ...)`, `LIST|LSUB ($!unordered)`,
 * `STATUS mailbox ($!unordered=2 ...)`; all other lists are ordered and complete.
 */
import { asciiLower, atomOf, type ImapArg, parseImapArgs } from "./args.ts";

export class ScriptSyntaxError extends Error {}

function strictUint(s: string): number | null {
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : null;
}

interface DirCtx {
  parent: DirCtx | null;
  replyName: string;
  prevAtom: string | null;
  parentChainIdx: number;
  chainCount: number;
  directives: boolean;
}

const atom = (value: string): ImapArg => ({ type: "atom", value });

/** Default list directives (test_add_default_directives in imaptest). */
function addDefaultDirectives(ctx: DirCtx, list: ImapArg[]): void {
  const p = ctx.parent;
  if (p === null) return;
  const atTop = p.parent === null && p.parentChainIdx === 0;
  if (ctx.replyName === "list" || ctx.replyName === "lsub") {
    // list|lsub (flags) sep mailbox
    if (atTop && ctx.parentChainIdx === 1) list.unshift(atom("$!unordered"));
  } else if (ctx.replyName === "status") {
    // status <mailbox> (reply)
    if (atTop && ctx.parentChainIdx === 2) list.unshift(atom("$!unordered=2"));
  } else if (ctx.replyName === "fetch") {
    if (atTop && ctx.parentChainIdx === 2) {
      // <seq> fetch (reply)
      list.unshift(atom("$!unordered=2"));
    } else if (
      p.parent !== null &&
      p.parent.parent === null &&
      p.parent.parentChainIdx === 0 &&
      p.parentChainIdx === 2 &&
      ctx.prevAtom === "flags"
    ) {
      // <seq> fetch (flags (..))
      list.unshift(
        atom("$!unordered"),
        atom("$!noextra"),
        atom("$!ignore=\\recent"),
        atom("$!ignore=$HasAttachment"),
        atom("$!ignore=$HasNoAttachment"),
      );
    }
  }
}

function handleDirectives(ctx: DirCtx, list: ImapArg[]): void {
  for (const a of list) {
    if (a.type !== "atom" || !a.value.startsWith("$!")) break;
    const d = a.value.slice(2);
    if (d.startsWith("unordered")) {
      if (d.length > 9) {
        const n = d[9] === "=" ? strictUint(d.slice(10)) : null;
        if (n === null || n === 0) throw new ScriptSyntaxError("Broken $!unordered directive");
        ctx.chainCount = n;
      }
    } else if (
      !(
        d === "ordered" ||
        d === "noextra" ||
        d === "extra" ||
        d.startsWith("ignore=") ||
        d.startsWith("ban=")
      )
    ) {
      throw new ScriptSyntaxError(`Unknown directive: ${d}`);
    }
    ctx.directives = true;
  }
  if (!ctx.directives) addDefaultDirectives(ctx, list);
  let prevAtom: string | null = null;
  list.forEach((a, i) => {
    const at = atomOf(a);
    if (at !== null) prevAtom = asciiLower(at);
    if (a.type !== "list") return;
    handleDirectives(
      {
        parent: ctx,
        replyName: asciiLower(ctx.replyName),
        prevAtom,
        parentChainIdx: ctx.chainCount === 1 ? i : i % ctx.chainCount,
        chainCount: 1,
        directives: false,
      },
      a.items,
    );
  });
}

export function parseArgsOrThrow(text: string): ImapArg[] {
  const r = parseImapArgs(text, { multilineString: true });
  if (!r.ok) throw new ScriptSyntaxError(r.error);
  return r.args;
}

/** Parses an expected untagged reply (without its `* `) and applies list directive defaults. */
export function parseExpectedUntagged(text: string): ImapArg[] {
  const args = parseArgsOrThrow(text);
  let name = atomOf(args[0]) ?? "";
  if (name.startsWith("$") || /^[0-9]/.test(name)) name = atomOf(args[1]) ?? "";
  handleDirectives(
    { parent: null, replyName: name, prevAtom: null, parentChainIdx: 0, chainCount: 1, directives: false },
    args,
  );
  return args;
}
