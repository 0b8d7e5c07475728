/**
 * Bookkeeping of one command group's expected untagged replies
 * (test_handle_untagged_match and test_group_check_missing_untagged in imaptest):
 * every reply is tried against every expectation not yet seen; `!` lines fail
 * on a match, `*` lines fail when still unseen at the end of the group.
 */
import { argsToString, asciiUpper, atomOf, type ImapArg } from "./args.ts";
import { expandAll, FULL, type MatchEnv, matchArgs } from "./matcher.ts";
import type { CommandGroup, Script, ScriptCommand } from "./script.ts";

export interface GroupState {
  group: CommandGroup;
  found: boolean[];
  maybes: { count: number; str: string }[];
  mismatches: number;
  firstExtra: string | null;
  pending: Map<string, ScriptCommand>;
  firstTag: string | null;
}

export function newGroupState(group: CommandGroup): GroupState {
  return {
    group,
    found: [],
    maybes: [],
    mismatches: 0,
    firstExtra: null,
    pending: new Map(),
    firstTag: null,
  };
}

/** Replies whose resp-text follows the matched part (RFC 3501 §7.1). */
const STATUS_PREFIX = new Set(["OK", "NO", "BAD", "BYE"]);

/** Matches one untagged reply; returns a failure message for a forbidden (`!`) match. */
export function matchUntagged(
  env: MatchEnv,
  script: Script,
  st: GroupState,
  loggingOut: boolean,
  args: ImapArg[],
): string | null {
  const g = st.group;
  if (g.untagged === null && (script.ignoreExtraUntagged || loggingOut)) return null;
  const expected = g.untagged ?? [];
  const prefix = STATUS_PREFIX.has(asciiUpper(atomOf(args[0]) ?? ""));
  env.added = [];
  let foundSome = false;
  for (let i = 0; i < expected.length; i++) {
    if (st.found[i]) continue;
    const exp = expected[i]!;
    if (st.firstTag !== null) env.vars.set("tag", st.firstTag);
    const n = matchArgs(env, exp.args, args, prefix);
    if (st.firstTag !== null) env.vars.delete("tag");
    if (n === FULL) {
      if (exp.existence === "mustnot") {
        return `Unexpected untagged match:\nMatch: ${argsToString(exp.args)}\nReply: ${argsToString(args)}`;
      }
      st.found[i] = true;
      foundSome = true;
      env.added = [];
      if (g.ordered) break;
      continue;
    }
    if ((st.maybes[i]?.count ?? 0) < n) st.maybes[i] = { count: n, str: argsToString(args) };
    env.revertAdded();
    if (g.ordered && exp.existence === "must") break;
  }
  if (!foundSome) {
    st.mismatches++;
    if (!script.ignoreExtraUntagged && st.firstExtra === null) st.firstExtra = argsToString(args);
  }
  return null;
}

/** Failures at the end of a group: missing `*` replies and, with ignore_extra_untagged: no, extra ones. */
export function groupFailures(env: MatchEnv, st: GroupState): string[] {
  const out: string[] = [];
  const expected = st.group.untagged ?? [];
  const missing = expected.flatMap((e, i) => (e.existence === "must" && !st.found[i] ? [i] : []));
  if (missing.length > 0) {
    const first = expected[missing[0]!]!;
    const unexpanded = argsToString(first.args);
    const expanded = expandAll(env, unexpanded, true);
    out.push(
      `Missing ${missing.length} untagged replies (${st.mismatches} mismatches)\n` +
        ` - first unexpanded (line ${first.line}): ${unexpanded}\n` +
        ` - first expanded: ${expanded.ok ? expanded.text : unexpanded}\n` +
        ` - best match: ${st.maybes[missing[0]!]?.str ?? ""}`,
    );
  }
  if (st.firstExtra !== null) {
    out.push(`${st.mismatches} unexpected untagged replies received, first: ${st.firstExtra}`);
  }
  return out;
}
