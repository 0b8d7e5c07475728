import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeMailbox, parseCommand, parseDateTime } from "../../src/imap/wire/command.ts";
import { formatInternalDate, Response } from "../../src/imap/wire/encode.ts";
import { type Frame, Framer } from "../../src/imap/wire/framer.ts";
import { Reader } from "../../src/imap/wire/reader.ts";
import {
  formatSequenceSet,
  parseSequenceSet,
  resolveSequenceNumbers,
  resolveUidIndexes,
} from "../../src/imap/wire/sequence.ts";
import type { Command } from "../../src/imap/wire/types.ts";

function parse(line: string): Command {
  const r = parseCommand(Buffer.from(line, "latin1"));
  assert.ok(r.ok, `expected ${JSON.stringify(line)} to parse: ${r.ok ? "" : r.error}`);
  return r.command;
}

function framer(limits = { literal: 100, command: 1000 }, maxLine = 200) {
  return new Framer({ maxLine, maxDiscard: 1000, limits: () => limits });
}

function drain(f: Framer): Frame[] {
  const out: Frame[] = [];
  for (let x = f.next(); x; x = f.next()) out.push(x);
  return out;
}

test("quoted strings with escapes, literals and atoms in LOGIN", () => {
  assert.deepEqual(parse('A0001 LOGIN "alice@chat.test" "pa\\"ss\\\\word"'), {
    name: "LOGIN",
    user: "alice@chat.test",
    password: 'pa"ss\\word',
  });
  assert.deepEqual(parse("a LOGIN {5}\r\nalice {3+}\r\npwd"), {
    name: "LOGIN",
    user: "alice",
    password: "pwd",
  });
  assert.deepEqual(parse("a login bob secret"), { name: "LOGIN", user: "bob", password: "secret" });
  const bad = parseCommand(Buffer.from('a LOGIN "x\\y" z'));
  assert.equal(bad.ok, false);
  assert.equal(bad.tag, "a");
});

test("the exact Delta Chat commands parse (chatmail/core src/imap.rs)", () => {
  const prefetch = parse(
    "A0005 UID FETCH 1:500 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE X-MICROSOFT-ORIGINAL-MESSAGE-ID FROM CONTENT-TYPE SECURE-JOIN CHAT-VERSION CHAT-IS-POST-MESSAGE AUTOCRYPT-SETUP-MESSAGE)])",
  );
  assert.equal(prefetch.name, "FETCH");
  if (prefetch.name !== "FETCH") return;
  assert.equal(prefetch.uid, true);
  assert.deepEqual(prefetch.set, [{ start: 1, end: 500 }]);
  assert.equal(prefetch.atts.length, 3);
  const section = prefetch.atts[2]!;
  assert.equal(section.kind, "BODY[]");
  if (section.kind === "BODY[]") {
    assert.equal(section.peek, true);
    assert.equal(section.section.text, "HEADER.FIELDS");
    assert.equal(section.section.fields.length, 9);
  }
  assert.equal(parse("A0008 UID FETCH 1 (FLAGS BODY.PEEK[])").name, "FETCH");
  assert.deepEqual(parse("A0009 UID STORE 1:5,7,9:12 +FLAGS (\\Deleted)"), {
    name: "STORE",
    uid: true,
    set: [
      { start: 1, end: 5 },
      { start: 7, end: 7 },
      { start: 9, end: 12 },
    ],
    mode: "add",
    silent: false,
    flags: ["\\Deleted"],
  });
  assert.deepEqual(parse('A1 SELECT "INBOX"'), { name: "SELECT", mailbox: "INBOX" });
  assert.deepEqual(parse('A1 STATUS "INBOX" (UIDNEXT)'), {
    name: "STATUS",
    mailbox: "INBOX",
    items: ["UIDNEXT"],
  });
  assert.deepEqual(parse('A1 UID MOVE 3 "DeltaChat"'), {
    name: "MOVE",
    uid: true,
    set: [{ start: 3, end: 3 }],
    mailbox: "DeltaChat",
  });
  assert.deepEqual(parse('A1 GETQUOTAROOT "INBOX"'), { name: "GETQUOTAROOT", mailbox: "INBOX" });
  assert.deepEqual(parse('A0003 ID ("name" "Delta Chat")'), { name: "ID", params: [["name", "Delta Chat"]] });
  const meta = parse(
    'A4 GETMETADATA "" (/shared/comment /shared/admin /shared/vendor/deltachat/irohrelay /shared/vendor/deltachat/turn /shared/vendor/deltachat/maxsmtprecipients)',
  );
  assert.equal(meta.name, "GETMETADATA");
  if (meta.name === "GETMETADATA") {
    assert.equal(meta.mailbox, "");
    assert.equal(meta.entries.length, 5);
  }
  const set = parse('A5 SETMETADATA "INBOX" (/private/devicetoken {12+}\r\nopenpgp:AAAA)');
  assert.deepEqual(set, {
    name: "SETMETADATA",
    mailbox: "INBOX",
    entries: [["/private/devicetoken", Buffer.from("openpgp:AAAA")]],
  });
});

test("mailbox names: INBOX is case-insensitive, other names pass through", () => {
  assert.equal(normalizeMailbox("inbox"), "INBOX");
  assert.equal(normalizeMailbox("Inbox/Sub"), "INBOX/Sub");
  assert.equal(normalizeMailbox("InboxX"), "InboxX");
  assert.equal(normalizeMailbox("&AMQ-bersicht"), "&AMQ-bersicht");
});

test("fetch macros, sections and partials", () => {
  const all = parse("a FETCH 1:* ALL");
  assert.equal(
    all.name === "FETCH" && all.atts.map((a) => a.kind).join(" "),
    "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE",
  );
  const full = parse("a FETCH 1 FULL");
  assert.equal(full.name === "FETCH" && full.atts.length, 5);
  const p = parse(
    'a FETCH 1 (BODY[1.2.MIME] BODY.PEEK[TEXT]<10.20> BODY[] BODY[1.HEADER.FIELDS.NOT (X-A "y")])',
  );
  assert.equal(p.name, "FETCH");
  if (p.name !== "FETCH") return;
  assert.deepEqual(
    p.atts.map((a) => (a.kind === "BODY[]" ? [a.peek, a.section, a.partial] : a.kind)),
    [
      [false, { part: [1, 2], text: "MIME", fields: [] }, null],
      [true, { part: [], text: "TEXT", fields: [] }, { offset: 10, length: 20 }],
      [false, { part: [], text: null, fields: [] }, null],
      [false, { part: [1], text: "HEADER.FIELDS.NOT", fields: ["X-A", "y"] }, null],
    ],
  );
  for (const badLine of [
    "a FETCH 1 (BODY[MIME])",
    "a FETCH 1 (FOO)",
    "a FETCH 0 FLAGS",
    "a FETCH 1 (BODY[]<1.0>)",
  ]) {
    assert.equal(parseCommand(Buffer.from(badLine)).ok, false, badLine);
  }
});

test("sequence sets: ranges either way, * as the maximum, UID ranges past the end", () => {
  const set = (s: string) => parseSequenceSet(new Reader(Buffer.from(s)));
  assert.deepEqual(resolveSequenceNumbers(set("1:*"), 3), [1, 2, 3]);
  assert.deepEqual(resolveSequenceNumbers(set("3:1,2"), 3), [1, 2, 3]);
  assert.equal(resolveSequenceNumbers(set("4"), 3), null);
  const uids = [1, 2, 3];
  // UID FETCH 5:504 with max UID 3 matches nothing (not 5:*).
  assert.deepEqual(resolveUidIndexes(set("5:504"), uids), []);
  // n:* with n > max matches the last message (RFC 3501 §6.4.8).
  assert.deepEqual(resolveUidIndexes(set("5:*"), uids), [2]);
  assert.deepEqual(resolveUidIndexes(set("2,1:2,*"), [4, 7, 9]), [2]);
  assert.deepEqual(resolveUidIndexes(set("1:7"), [4, 7, 9]), [0, 1]);
  assert.equal(formatSequenceSet([1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
});

test("search keys, dates and APPEND date-time", () => {
  const s = parse('a UID SEARCH CHARSET UTF-8 OR FROM "x" (SUBJECT y NOT SEEN) SINCE 1-Feb-1994 1:3');
  assert.equal(s.name, "SEARCH");
  if (s.name === "SEARCH") {
    assert.equal(s.charset, "UTF-8");
    assert.equal(s.key.op, "and");
  }
  const r = new Reader(Buffer.from('"17-Jul-1996 02:44:25 -0700"'));
  assert.equal(parseDateTime(r), Date.UTC(1996, 6, 17, 9, 44, 25));
  assert.equal(formatInternalDate(Date.UTC(1996, 6, 17, 9, 44, 25)), '"17-Jul-1996 09:44:25 +0000"');
  const a = parse('a APPEND Sent (\\Seen) " 7-Feb-1994 21:52:25 -0800" {3}\r\nabc');
  assert.equal(a.name === "APPEND" && a.data.toString(), "abc");
  assert.equal(a.name === "APPEND" && a.date, Date.UTC(1994, 1, 8, 5, 52, 25));
});

test("malformed commands give a typed error with the tag", () => {
  for (const [line, tag] of [
    ["", null],
    ["*", null],
    ["a", "a"],
    ["a+ NOOP", null],
    ["a FOO", "a"],
    ["a NOOP extra", "a"],
    ["a SELECT", "a"],
    ['a LOGIN "unterminated', "a"],
    ["a LOGIN {5}\r\nab", "a"],
    ["a SEARCH NOT NOT", "a"],
  ] as const) {
    const r = parseCommand(Buffer.from(line));
    assert.equal(r.ok, false, line);
    assert.equal(r.tag, tag, line);
  }
  const deep = parseCommand(Buffer.from(`a SEARCH ${"NOT ".repeat(5000)}ALL`));
  assert.equal(deep.ok, false);
});

test("framer: lines, synchronizing and non-synchronizing literals", () => {
  const f = framer();
  f.push(Buffer.from("a NOOP\r\nb LOGIN {3}\r\n"));
  assert.deepEqual(drain(f), [
    { kind: "command", data: Buffer.from("a NOOP") },
    { kind: "continue", size: 3 },
  ]);
  f.push(Buffer.from("bob {4+}\r\npass\r\nc NOOP\n"));
  assert.deepEqual(drain(f), [
    { kind: "command", data: Buffer.from("b LOGIN {3}\r\nbob {4+}\r\npass") },
    { kind: "command", data: Buffer.from("c NOOP") },
  ]);
  // Byte by byte gives the same result.
  const g = framer();
  const frames: Frame[] = [];
  for (const byte of Buffer.from("x LOGIN {2+}\r\nab cd\r\n")) {
    g.push(Buffer.of(byte));
    frames.push(...drain(g));
  }
  assert.deepEqual(frames, [{ kind: "command", data: Buffer.from("x LOGIN {2+}\r\nab cd") }]);
});

test("framer: oversize input is refused and the stream stays in step", () => {
  const f = framer({ literal: 10, command: 100 }, 50);
  // Synchronizing literal too large: refused instead of "+"; the client sends the next command.
  f.push(Buffer.from("a APPEND INBOX {11}\r\nb NOOP\r\n"));
  assert.deepEqual(drain(f), [
    { kind: "reject", tag: "a", message: "Literal too large", tooBig: true, command: "APPEND" },
    { kind: "command", data: Buffer.from("b NOOP") },
  ]);
  // Non-synchronizing literal too large: read and discarded with the rest of its command.
  f.push(Buffer.from("c LOGIN {12+}\r\n0123456789ab more {2+}\r\nxy\r\nd NOOP\r\n"));
  assert.deepEqual(drain(f), [
    { kind: "reject", tag: "c", message: "Literal too large", tooBig: true, command: "LOGIN" },
    { kind: "command", data: Buffer.from("d NOOP") },
  ]);
  // A line that is too long is skipped up to its end.
  f.push(Buffer.from(`e NOOP ${"x".repeat(100)}\r\nf NOOP\r\n`));
  assert.deepEqual(drain(f), [
    { kind: "reject", tag: "e", message: "Line too long", tooBig: false, command: "NOOP" },
    { kind: "command", data: Buffer.from("f NOOP") },
  ]);
  // A huge non-synchronizing literal cannot be skipped: fatal.
  f.push(Buffer.from("g APPEND INBOX {99999+}\r\n"));
  assert.equal(drain(f)[0]?.kind, "fatal");
});

test("framer: line mode for IDLE and AUTHENTICATE", () => {
  const f = framer();
  f.mode = "line";
  f.push(Buffer.from("DONE {5}\r\n"));
  assert.deepEqual(drain(f), [{ kind: "line", data: Buffer.from("DONE {5}") }]);
});

test("encoder: quoted when possible, literal otherwise", () => {
  const r = new Response().text("* X ").string('a"b\\c').text(" ").string("ü\r\n").text(" ").nstring(null);
  assert.equal(r.build().toString("utf8"), '* X "a\\"b\\\\c" {4}\r\nü\r\n NIL\r\n');
  assert.equal(new Response().astring("INBOX").astring(" x").build().toString(), 'INBOX" x"\r\n');
});
