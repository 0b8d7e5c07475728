/** STORE / UID STORE (RFC 3501 §6.4.6): modes, .SILENT, keywords, read-only, other sessions. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

test("+FLAGS, -FLAGS, FLAGS, .SILENT and keywords", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 3; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  assert.deepEqual(await c.command("a", "STORE 1:2 +FLAGS (\\Seen $Important)"), [
    "* 1 FETCH (FLAGS (\\Seen $Important \\Recent))\r\n",
    "* 2 FETCH (FLAGS (\\Seen $Important \\Recent))\r\n",
    "a OK Store completed.\r\n",
  ]);
  assert.deepEqual(await c.command("b", "UID STORE 2 -FLAGS \\seen"), [
    "* 2 FETCH (UID 2 FLAGS ($Important \\Recent))\r\n",
    "b OK Store completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", "STORE 3 FLAGS.SILENT (\\Flagged \\Answered)"), [
    "c OK Store completed.\r\n",
  ]);
  assert.deepEqual(await c.command("d", "FETCH 1:3 FLAGS"), [
    "* 1 FETCH (FLAGS (\\Seen $Important \\Recent))\r\n",
    "* 2 FETCH (FLAGS ($Important \\Recent))\r\n",
    "* 3 FETCH (FLAGS (\\Flagged \\Answered \\Recent))\r\n",
    "d OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("e", "STORE 1 +FLAGS (\\Recent)"), [
    "e BAD Invalid system flag \\Recent\r\n",
  ]);
  assert.deepEqual(await c.command("f", "STORE 1 +FLAGS (\\Bogus)"), [
    "f BAD Invalid system flag \\Bogus\r\n",
  ]);
  assert.deepEqual(await c.command("g", "STORE 4 +FLAGS (\\Seen)"), ["g BAD Invalid messageset\r\n"]);
  assert.deepEqual(await c.command("h", "UID STORE 4:* +FLAGS.SILENT (\\Seen)"), [
    "h OK Store completed.\r\n",
  ]);
  assert.deepEqual(await c.command("i", "FETCH 3 FLAGS"), [
    "* 3 FETCH (FLAGS (\\Flagged \\Answered \\Seen \\Recent))\r\n",
    "i OK Fetch completed.\r\n",
  ]);
  // SELECT lists keywords in use.
  const sel = await c.command("j", "SELECT INBOX");
  assert.equal(sel[0], "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)\r\n");
  await c.command("k", "EXAMINE INBOX");
  assert.deepEqual(await c.command("l", "STORE 1 +FLAGS (\\Deleted)"), [
    "l NO [READ-ONLY] Mailbox is read-only.\r\n",
  ]);
  c.close();
});

test("other sessions receive FETCH (UID FLAGS) for flag changes, .SILENT too", async () => {
  const user = await h.newUser();
  await h.deliver([user], message());
  const a = await loggedIn(h.port, user, h.password);
  const b = await loggedIn(h.port, user, h.password);
  await a.command("s", "SELECT INBOX");
  await b.command("s", "SELECT INBOX");
  await a.command("x", "STORE 1 +FLAGS.SILENT (\\Seen)");
  assert.deepEqual(await b.command("n", "NOOP"), [
    "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n",
    "n OK NOOP completed.\r\n",
  ]);
  // The storing session itself gets no unsolicited echo.
  assert.deepEqual(await a.command("n", "NOOP"), ["n OK NOOP completed.\r\n"]);
  a.close();
  b.close();
});

test("imapflow flag operations", async () => {
  const user = await h.newUser();
  await h.deliver([user], message());
  const client = await h.imapflow(user);
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      assert.equal(await client.messageFlagsAdd("1", ["\\Seen", "\\Flagged"]), true);
      assert.equal(await client.messageFlagsRemove("1", ["\\Flagged"]), true);
      const m = await client.fetchOne("1", { flags: true });
      assert.deepEqual(m && [...(m.flags ?? [])], ["\\Seen", "\\Recent"]);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
});
