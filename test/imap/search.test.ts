/** SEARCH / UID SEARCH (RFC 3501 §6.4.4). */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn, type RawClient } from "./support/raw-client.ts";

let h: ImapHarness;
let user: string;
let c: RawClient;

before(async () => {
  h = await startImap();
  user = await h.newUser();
  await h.deliver(
    [user],
    message({ subject: "Lunch plans", from: "Alice <alice@example.org>", body: "pizza?" }),
  );
  await h.deliver(
    [user],
    message({ subject: "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", from: "Bob <bob@example.net>", body: "hello" }),
  );
  await h.deliver([user], message({ subject: "Report", to: "carol@example.com", body: "x".repeat(3000) }));
  c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await c.command("f", "STORE 1 +FLAGS (\\Seen)");
  await c.command("g", "STORE 2 +FLAGS (\\Flagged $Work)");
});
after(async () => {
  c.close();
  await h.close();
});

async function search(query: string): Promise<string> {
  const r = await c.command("q", query);
  assert.equal(r[r.length - 1], "q OK Search completed.\r\n", r.join(""));
  return r[0]!;
}

test("flags, keywords, sizes, sequence and UID sets", async () => {
  assert.equal(await search("SEARCH ALL"), "* SEARCH 1 2 3\r\n");
  assert.equal(await search("SEARCH SEEN"), "* SEARCH 1\r\n");
  assert.equal(await search("SEARCH UNSEEN"), "* SEARCH 2 3\r\n");
  assert.equal(await search("SEARCH FLAGGED KEYWORD $Work"), "* SEARCH 2\r\n");
  assert.equal(await search("SEARCH UNKEYWORD $Work"), "* SEARCH 1 3\r\n");
  assert.equal(await search("SEARCH LARGER 2000"), "* SEARCH 3\r\n");
  assert.equal(await search("SEARCH SMALLER 2000 NOT 1"), "* SEARCH 2\r\n");
  assert.equal(await search("SEARCH OR SEEN FLAGGED"), "* SEARCH 1 2\r\n");
  assert.equal(await search("SEARCH 2:*"), "* SEARCH 2 3\r\n");
  assert.equal(await search("SEARCH UID 3:*"), "* SEARCH 3\r\n");
  assert.equal(await search("UID SEARCH (DELETED)"), "* SEARCH\r\n");
  // This session selected first: all three are \Recent here; NEW = RECENT UNSEEN.
  assert.equal(await search("UID SEARCH RECENT"), "* SEARCH 1 2 3\r\n");
  assert.equal(await search("UID SEARCH NEW"), "* SEARCH 2 3\r\n");
  assert.equal(await search("UID SEARCH OLD"), "* SEARCH\r\n");
});

test("headers, body and text, decoded and case-insensitive", async () => {
  assert.equal(await search("SEARCH SUBJECT lunch"), "* SEARCH 1\r\n");
  assert.equal(
    await search(
      "SEARCH CHARSET UTF-8 SUBJECT {4+}\r\ngrüß".replace("{4+}", `{${Buffer.byteLength("grüß")}+}`),
    ),
    "* SEARCH 2\r\n",
  );
  assert.equal(await search('SEARCH FROM "example.net"'), "* SEARCH 2\r\n");
  assert.equal(await search("SEARCH TO carol"), "* SEARCH 3\r\n");
  assert.equal(await search("SEARCH BODY PIZZA"), "* SEARCH 1\r\n");
  assert.equal(await search("SEARCH TEXT report"), "* SEARCH 3\r\n");
  assert.equal(await search('SEARCH HEADER Chat-Version ""'), "* SEARCH 1 2 3\r\n");
  assert.equal(await search("SEARCH HEADER X-Missing x"), "* SEARCH\r\n");
  assert.equal(await search("SEARCH SENTON 7-Feb-1994"), "* SEARCH 1 2 3\r\n");
  assert.equal(await search("SEARCH SENTBEFORE 1-Jan-1990"), "* SEARCH\r\n");
  assert.equal(await search("SEARCH SINCE 1-Jan-2000"), "* SEARCH 1 2 3\r\n");
  assert.equal(await search('SEARCH BEFORE "1-Jan-2000"'), "* SEARCH\r\n");
});

test("bad charset and bad syntax", async () => {
  assert.deepEqual(await c.command("a", "SEARCH CHARSET KOI8-R ALL"), [
    "a NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.\r\n",
  ]);
  const r = await c.command("b", "SEARCH FOO");
  assert.match(r[0]!, /^b BAD Error in IMAP command SEARCH: unknown search key FOO\r\n$/);
});

test("imapflow search", async () => {
  const client = await h.imapflow(user);
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      assert.deepEqual(await client.search({ seen: false }, { uid: true }), [2, 3]);
      assert.deepEqual(await client.search({ or: [{ subject: "report" }, { from: "alice" }] }), [1, 3]);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});
