/**
 * Fuzzing: random and mutated commands against the parser and framer (never
 * throw) and whole sessions of them against a live server (it stays up and
 * answers a NOOP afterwards). Seeded, so a failure can be replayed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { parseCommand } from "../../src/imap/wire/command.ts";
import { Framer } from "../../src/imap/wire/framer.ts";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn, RawClient } from "./support/raw-client.ts";

const CORPUS = [
  'A0001 LOGIN "alice@chat.test" "pa\\"ss\\\\word"',
  "A0005 UID FETCH 1:500 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM CONTENT-TYPE)])",
  "A0008 UID FETCH 1 (FLAGS BODY.PEEK[])",
  "a FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY[1.2.MIME] BODY[TEXT]<0.10> RFC822.HEADER)",
  "a FETCH 1 FULL",
  "A0009 UID STORE 1:5,7,9:12 +FLAGS (\\Deleted)",
  "a STORE 2 -FLAGS.SILENT (\\Seen $Label)",
  'A0006 SELECT "INBOX"',
  "a EXAMINE Sent",
  'A1 GETMETADATA "" (/shared/comment /shared/admin /shared/vendor/deltachat/turn)',
  'A1 GETMETADATA (MAXSIZE 10 DEPTH infinity) "" /shared',
  'A1 SETMETADATA "INBOX" (/private/devicetoken {5+}\r\nabcde)',
  'a SEARCH CHARSET UTF-8 OR FROM "x" (SUBJECT y NOT SEEN) SINCE 1-Feb-1994 1:3',
  "a UID SEARCH HEADER Message-ID <x@y> LARGER 10",
  'a LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED CHILDREN)',
  'a LSUB "" "%"',
  'a STATUS "INBOX" (UIDNEXT MESSAGES UNSEEN)',
  'a APPEND Sent (\\Seen) " 7-Feb-1994 21:52:25 -0800" {11+}\r\nhello world',
  "a COPY 1:2 Trash",
  "a UID MOVE 3 Junk",
  "a UID EXPUNGE 1:*",
  'a GETQUOTAROOT "INBOX"',
  'a ID ("name" "Delta Chat")',
  "a ENABLE CONDSTORE",
  "a NAMESPACE",
  "a CREATE Foo/Bar",
  "a RENAME Foo Baz",
  "a NOOP",
  "a CHECK",
  "a CAPABILITY",
];

/** Mutations that keep the input close to valid syntax. */
function mutate(rng: () => number, s: string): string {
  const ops = 1 + Math.floor(rng() * 4);
  let out = s;
  const pieces = [
    '"',
    "(",
    ")",
    "{",
    "}",
    "{3}",
    "{2+}",
    "\r\n",
    "\\",
    "*",
    ":",
    "[",
    "]",
    "<",
    ">",
    " ",
    "NIL",
    "\0",
    "\xff",
  ];
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(rng() * (out.length + 1));
    switch (Math.floor(rng() * 4)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rng() * 5));
        break;
      case 1:
        out = out.slice(0, at) + pieces[Math.floor(rng() * pieces.length)] + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + String.fromCharCode(Math.floor(rng() * 256)) + out.slice(at + 1);
        break;
      default: {
        const other = CORPUS[Math.floor(rng() * CORPUS.length)]!;
        out = out.slice(0, at) + other.slice(Math.floor(rng() * other.length));
      }
    }
  }
  return out;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

test("the parser never throws on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = parseCommand(Buffer.from(bytes));
      assert.equal(typeof r.ok, "boolean");
    }),
    { numRuns: 5000, seed: 1 },
  );
});

test("the parser never throws on mutated valid commands", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: CORPUS.length - 1 }), fc.integer(), (i, seed) => {
      const line = mutate(seeded(seed), CORPUS[i]!);
      const r = parseCommand(Buffer.from(line, "latin1"));
      if (!r.ok) assert.equal(typeof r.error, "string");
    }),
    { numRuns: 20000, seed: 2 },
  );
  for (const line of CORPUS) assert.ok(parseCommand(Buffer.from(line, "latin1")).ok, line);
});

test("the framer never throws, however the stream is chunked", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 40 }),
      fc.boolean(),
      (chunks, lineMode) => {
        const f = new Framer({
          maxLine: 100,
          maxDiscard: 200,
          limits: () => ({ literal: 50, command: 300 }),
        });
        if (lineMode) f.mode = "line";
        for (const c of chunks) {
          f.push(Buffer.from(c));
          for (let frame = f.next(); frame; frame = f.next()) assert.ok(frame.kind);
        }
      },
    ),
    { numRuns: 3000, seed: 3 },
  );
});

let h: ImapHarness;

before(async () => {
  h = await startImap({ limits: { maxLine: 4096, maxLiteral: 1024 } });
});
after(() => h.close());

test("live sessions of mutated commands: the server stays up and consistent", async () => {
  const users = [await h.newUser(), await h.newUser()];
  for (const u of users) for (let i = 0; i < 3; i++) await h.deliver([u], message());
  const rng = seeded(12345);
  for (let session = 0; session < 16; session++) {
    const user = users[session % users.length]!;
    const c = session % 4 === 0 ? await RawClient.connect(h.port) : await loggedIn(h.port, user, h.password);
    if (session % 4 !== 0) await c.command("s", "SELECT INBOX");
    else await c.read();
    const burst: string[] = [];
    for (let i = 0; i < 40; i++) {
      const base = CORPUS[Math.floor(rng() * CORPUS.length)]!;
      burst.push(rng() < 0.8 ? mutate(rng, base) : base);
    }
    c.write(Buffer.from(`${burst.join("\r\n")}\r\n`, "latin1"));
    // Let the server chew on it; whatever state it ends in (IDLE, a pending
    // literal, logged out), it must not crash.
    await new Promise((r) => setTimeout(r, 50));
    c.close();
  }
  // Random bytes, including a stream that ends inside a literal.
  for (let i = 0; i < 8; i++) {
    const c = await RawClient.connect(h.port);
    await c.read();
    const junk = Buffer.alloc(2000);
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rng() * 256);
    c.write(junk);
    c.write("a LOGIN {100000+}\r\nshort");
    await new Promise((r) => setTimeout(r, 20));
    c.close();
  }
  const probe = await loggedIn(h.port, users[0]!, h.password);
  assert.deepEqual(await probe.command("z", "NOOP"), ["z OK NOOP completed.\r\n"]);
  const sel = await probe.command("y", "SELECT INBOX");
  assert.equal(sel[sel.length - 1], "y OK [READ-WRITE] Select completed.\r\n");
  probe.close();
  // Every fuzzed session is gone again.
  for (let i = 0; i < 100 && h.server.sessionCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.server.sessionCount, 0);
});
