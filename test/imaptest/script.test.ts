import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { argsToString } from "./args.ts";
import { parseResponse } from "./client.ts";
import { parseMbox } from "./mbox.ts";
import { parseScript, type Script } from "./script.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "imaptest", "tests");

function parse(text: string, env: Record<string, string> = {}): Script {
  const r = parseScript("t", text, env);
  if (!r.ok) assert.fail(r.error);
  return r.script;
}

function parseError(text: string): string {
  const r = parseScript("t", text);
  assert.equal(r.ok, false);
  return r.ok ? "" : r.error;
}

test("header defaults and values", () => {
  const d = parse("messages: 3\n\nok noop\n");
  assert.deepEqual(
    [d.state, d.connections, d.capabilities, d.ignoreExtraUntagged, d.messages],
    ["selected", 1, null, true, 3],
  );
  const s = parse(
    "capabilities: ESEARCH  CONDSTORE\nstate: Auth\nconnections: 2\nmessages: all\n\n1 ok noop\n",
  );
  assert.deepEqual(
    [s.state, s.connections, s.capabilities, s.messages],
    ["auth", 2, ["ESEARCH", "CONDSTORE"], "all"],
  );
  assert.match(parseError("colour: blue\n\nok noop\n"), /Unknown setting/);
  assert.match(parseError("connections: 0\n\nok noop\n"), /Too many connections/);
});

test("inline replies, later replies, pipelined tags and connection prefixes", () => {
  const s = parse(
    "connections: 2\n\n1 ok select $mailbox\n* 0 exists\n2 examine $mailbox\n2 ok [read-only]\n" +
      "1 tag1 create a\n1 tag2 create b\n1 tag2 no\n1 tag1 ok\n",
  );
  const [g1, g2, g3, logout] = s.groups;
  assert.equal(g1!.connection, 0);
  assert.equal(g1!.commands[0]!.text, "select $mailbox");
  assert.equal(argsToString(g1!.commands[0]!.reply), "ok");
  assert.equal(g1!.untagged!.length, 1);
  assert.equal(g2!.connection, 1);
  assert.equal(argsToString(g2!.commands[0]!.reply), "ok [read-only]");
  assert.deepEqual(
    g3!.commands.map((c) => [c.tag, c.text, argsToString(c.reply)]),
    [
      [1, "create a", "ok"],
      [2, "create b", "no"],
    ],
  );
  // A LOGOUT is added on the first connection when the script has none.
  assert.deepEqual(
    [logout!.connection, logout!.commands[0]!.text, logout!.commands[0]!.line],
    [0, "logout", 0],
  );
  assert.equal(parse("\nok logout\n* bye\n").groups.length, 1);
});

test("syntax errors are reported with the line", () => {
  assert.match(parseError("connections: 2\n\nok noop\n"), /line 3: Missing client index/);
  assert.match(parseError("\nselect x\n"), /Missing reply from previous command/);
  assert.match(parseError("\ntag1 a\ntag1 b\n"), /Tag reused/);
  assert.match(parseError("\nok noop\n? bye\n"), /\? BYE not currently supported/);
  assert.match(parseError("\nok fetch 1 uid\n* 1 fetch ($!sorted)\n"), /Unknown directive/);
  assert.match(parseError("\nok x {{{\nabc\n"), /not ended/);
  assert.match(parseError("\nok noop"), /doesn't end with LF/);
});

test("{{{ }}} blocks become literals: CRLF lines, or LF lines for ~{{{", () => {
  const s = parse(
    "\nok append $mailbox {{{\nab\n\n}}}\nok fetch 1 x\n* 1 fetch (x ~{{{\nc\r\nd\n}}} y {{{\ne\n}}})\n",
  );
  assert.equal(s.groups[0]!.commands[0]!.text, "append $mailbox {4}\r\nab\r\n");
  assert.equal(
    argsToString(s.groups[1]!.untagged![0]!.args),
    '1 fetch ($!unordered=2 x ~{4}"c\\r\\nd" y {1}"e")',
  );
});

test("default list directives follow imaptest", () => {
  const s = parse(
    "\nok x\n* 1 fetch (uid 1 flags (\\seen))\n* list () / a\n* status a (messages 1)\n* esearch (tag $tag) all 1\n* 2 fetch ($!extra flags (\\seen))\n",
  );
  assert.deepEqual(
    s.groups[0]!.untagged!.map((u) => argsToString(u.args)),
    [
      "1 fetch ($!unordered=2 uid 1 flags ($!unordered $!noextra $!ignore=\\recent $!ignore=$HasAttachment $!ignore=$HasNoAttachment \\seen))",
      "list ($!unordered) / a",
      "status a ($!unordered=2 messages 1)",
      "esearch (tag $tag) all 1",
      "2 fetch ($!extra flags ($!unordered $!noextra $!ignore=\\recent $!ignore=$HasAttachment $!ignore=$HasNoAttachment \\seen))",
    ],
  );
});

test("!ifenv / !else / !endif select lines by environment", () => {
  const text = "\n!ifenv FOO\nok a\n!else\nok b\n!endif\n";
  assert.equal(parse(text, { FOO: "1" }).groups[0]!.commands[0]!.text, "a");
  assert.equal(parse(text).groups[0]!.commands[0]!.text, "b");
});

test("every fixture script parses", () => {
  const names = readdirSync(fixtures).filter(
    (n) => !n.endsWith(".mbox") && !statSync(join(fixtures, n)).isDirectory(),
  );
  assert.ok(names.length >= 70);
  for (const n of names) {
    const r = parseScript(n, readFileSync(join(fixtures, n)));
    assert.ok(r.ok, r.ok ? "" : r.error);
  }
});

test("mbox messages get CRLF line ends and the From line's date", () => {
  const msgs = parseMbox(readFileSync(join(fixtures, "default.mbox")));
  assert.ok(msgs.length > 5);
  assert.ok(msgs[0]!.data.endsWith("Subject: s1\r\n\r\nbody1\r\n\r\n"));
  assert.match(msgs[0]!.internalDate, /^22-Feb-2008 17:06:23 [+-]\d{4}$/);
  const withZone = parseMbox(Buffer.from("From a  Sat Mar 24 23:00:00 2007 +0200\nA: b\n\nx\nFrom me\n"));
  assert.deepEqual(withZone, [
    { data: "A: b\r\n\r\nx\r\nFrom me\r\n", internalDate: "24-Mar-2007 23:00:00 +0200" },
  ]);
});

test("responses: literals, status text that does not tokenize", () => {
  const r = parseResponse("* 1 FETCH (BODY[HEADER.FIELDS (FROM)] {3}\r\nab\n UID 4)");
  assert.equal(argsToString(r.args), '1 FETCH (BODY[HEADER.FIELDS (FROM) ] {3}"ab\\n" UID 4)');
  const ok = parseResponse('a1 OK [READ-WRITE] Say "hi (done');
  assert.equal(ok.parseError, undefined);
  assert.equal(argsToString(ok.args), 'OK [READ-WRITE] Say "hi (done');
  assert.equal(parseResponse("* 1 FETCH (UID 1").parseError, "Missing ')'");
});
