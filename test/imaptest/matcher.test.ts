import assert from "node:assert/strict";
import { test } from "node:test";
import { type ImapArg, parseImapArgs } from "./args.ts";
import { expandAll, FULL, MatchEnv, matchArgs } from "./matcher.ts";
import { parseExpectedUntagged } from "./script.ts";

function args(text: string): ImapArg[] {
  const r = parseImapArgs(text);
  if (!r.ok) assert.fail(r.error);
  return r.args;
}

/** Does the expected untagged line (with default directives) match the response? */
function matches(env: MatchEnv, expected: string, response: string, prefix = false): boolean {
  return matchArgs(env, parseExpectedUntagged(expected), args(response), prefix) === FULL;
}

test("variables are captured once and compared afterwards", () => {
  const env = new MatchEnv();
  assert.ok(matches(env, "1 fetch (uid $uid1)", "1 FETCH (UID 17)"));
  assert.equal(env.vars.get("uid1"), "17");
  assert.ok(matches(env, "2 fetch (uid $uid1)", "2 FETCH (UID 17)"));
  assert.ok(!matches(env, "2 fetch (uid $uid1)", "2 FETCH (UID 18)"));
  assert.ok(matches(env, "search $uid1:$last", "SEARCH 17:20"));
  assert.equal(env.vars.get("last"), "20");
});

test("$ matches any string or list but not NIL; NIL matches only NIL", () => {
  const env = new MatchEnv();
  assert.ok(matches(env, "1 fetch (envelope $)", "1 FETCH (ENVELOPE (NIL NIL))"));
  assert.ok(matches(env, "1 fetch (x $)", '1 FETCH (X "y")'));
  assert.ok(!matches(env, "1 fetch (x $)", "1 FETCH (X NIL)"));
  assert.ok(matches(env, "1 fetch (x nil)", "1 FETCH (X NIL)"));
  assert.ok(!matches(env, "1 fetch (x nil)", '1 FETCH (X "NIL")'));
});

test("FETCH items are unordered with extras allowed; FLAGS must be exact except \\Recent", () => {
  const env = new MatchEnv();
  assert.ok(
    matches(env, "1 fetch (flags (\\seen) uid 5)", "1 FETCH (UID 5 MODSEQ (3) FLAGS (\\Recent \\Seen))"),
  );
  assert.ok(!matches(env, "1 fetch (flags (\\seen))", "1 FETCH (FLAGS (\\Seen \\Flagged))"));
  assert.ok(!matches(env, "1 fetch (flags (\\seen \\draft))", "1 FETCH (FLAGS (\\Seen))"));
  assert.ok(!matches(env, "1 fetch (uid 5)", "2 FETCH (UID 5)"));
  // Other lists are ordered and complete.
  assert.ok(!matches(env, "thread (1)(2)", "THREAD (2)(1)"));
  assert.ok(!matches(env, "thread (1 2)", "THREAD (1 2 3)"));
});

test("$!ban and $!noextra with $!ignore", () => {
  const env = new MatchEnv();
  const e = "list ($!unordered $!ban=\\noselect \\subscribed) / a";
  assert.ok(matches(env, e, "LIST (\\Subscribed \\HasNoChildren) / a"));
  assert.ok(!matches(env, e, "LIST (\\Subscribed \\NoSelect) / a"));
  const n = "x ($!unordered $!noextra $!ignore=b a)";
  assert.ok(matches(env, n, "X (b a)"));
  assert.ok(!matches(env, n, "X (c a)"));
});

test("status replies and tagged replies match as prefixes, case-insensitively unless case: is given", () => {
  const env = new MatchEnv();
  assert.ok(matches(env, "ok [uidvalidity $uidv]", "OK [UIDVALIDITY 42] UIDs valid", true));
  assert.equal(env.vars.get("uidv"), "42");
  assert.ok(matches(env, "ok [read", "OK [READ-ONLY] done", true));
  assert.ok(!matches(env, "ok [read", "OK [READ-ONLY] done", false));
  assert.ok(matches(env, "list () / inbox", "LIST () / INBOX"));
  const exact = (s: string) => `list () / $\{case:${s}}`;
  assert.ok(!matches(env, exact("inbox"), "LIST () / INBOX"));
  assert.ok(matches(env, exact("INBOX"), "LIST () / INBOX"));
});

test("$N follows expunges during a command group", () => {
  const env = new MatchEnv();
  env.resetSeqmap(4);
  assert.ok(matches(env, "$1 expunge", "1 EXPUNGE"));
  env.expunge(1);
  assert.ok(matches(env, "$3 expunge", "2 EXPUNGE"));
  env.expunge(2);
  assert.ok(matches(env, "$4 fetch (uid 9)", "2 FETCH (UID 9)"));
  assert.ok(!matches(env, "$1 fetch (uid 9)", "1 FETCH (UID 9)"));
});

test("$modseqN values must grow by at least the index gap", () => {
  const env = new MatchEnv();
  assert.ok(matches(env, "x $modseq2", "X 10"));
  assert.ok(matches(env, "x $modseq5", "X 13"));
  const low = new MatchEnv();
  assert.ok(matches(low, "x $modseq2", "X 10"));
  assert.ok(!matches(low, "x $modseq5", "X 12"));
});

test("strings compare as C strings: nothing after NUL counts", () => {
  const env = new MatchEnv();
  assert.ok(matches(env, "1 fetch (binary[1] ~{3}\r\n\0ab)", "1 FETCH (BINARY[1] ~{4}\r\n\0xyz)"));
});

test("command expansion", () => {
  const env = new MatchEnv();
  env.vars.set("mailbox", "imaptest");
  env.resetSeqmap(3);
  env.expunge(1);
  assert.deepEqual(expandAll(env, `store $3 flags ($$x) $\{mailbox}2`), {
    ok: true,
    text: "store 2 flags ($x) imaptest2",
  });
  assert.deepEqual(expandAll(env, "x ($!unordered a)"), { ok: true, text: "x ( a)" });
  assert.deepEqual(expandAll(env, "fetch $nope"), { ok: false, error: "Uninitialized variable: nope" });
  assert.deepEqual(expandAll(env, "fetch $nope", true), { ok: true, text: "fetch $" });
});
