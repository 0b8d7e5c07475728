/** EXPUNGE, UID EXPUNGE (RFC 4315), CLOSE (silent), and what other sessions see. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

test("EXPUNGE removes \\Deleted messages with decreasing sequence numbers", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 5; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await c.command("a", "STORE 1,3,5 +FLAGS.SILENT (\\Deleted)");
  assert.deepEqual(await c.command("b", "EXPUNGE"), [
    "* 5 EXPUNGE\r\n",
    "* 3 EXPUNGE\r\n",
    "* 1 EXPUNGE\r\n",
    "b OK Expunge completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", "UID SEARCH ALL"), [
    "* SEARCH 2 4\r\n",
    "c OK Search completed.\r\n",
  ]);
  assert.deepEqual(await c.command("d", "EXPUNGE"), ["d OK Expunge completed.\r\n"]);
  c.close();
});

test("UID EXPUNGE removes only the given \\Deleted messages", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 3; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await c.command("a", "STORE 1:3 +FLAGS.SILENT (\\Deleted)");
  assert.deepEqual(await c.command("b", "UID EXPUNGE 2:3"), [
    "* 3 EXPUNGE\r\n",
    "* 2 EXPUNGE\r\n",
    "b OK Expunge completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", "FETCH 1:* (UID FLAGS)"), [
    "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n",
    "c OK Fetch completed.\r\n",
  ]);
  c.close();
});

test("CLOSE expunges silently; EXAMINE + CLOSE does not; others are told", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 2; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  const other = await loggedIn(h.port, user, h.password);
  await other.command("s", "SELECT INBOX");
  await c.command("s", "SELECT INBOX");
  await c.command("a", "STORE 1 +FLAGS.SILENT (\\Deleted)");
  await c.command("e", "EXAMINE INBOX");
  assert.deepEqual(await c.command("b", "CLOSE"), ["b OK Close completed.\r\n"]);
  assert.deepEqual(await other.command("n1", "UID SEARCH ALL"), [
    "* SEARCH 1 2\r\n",
    "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n",
    "n1 OK Search completed.\r\n",
  ]);
  await c.command("s2", "SELECT INBOX");
  assert.deepEqual(await c.command("c", "CLOSE"), ["c OK Close completed.\r\n"]);
  assert.deepEqual(await c.command("d", "FETCH 1 FLAGS"), ["d BAD No mailbox selected\r\n"]);
  assert.deepEqual(await other.command("n2", "NOOP"), ["* 1 EXPUNGE\r\n", "n2 OK NOOP completed.\r\n"]);
  const inbox = (await h.store.getMailbox(user, "INBOX"))!;
  assert.deepEqual(
    (await h.store.listMessages(inbox.id)).map((r) => r.uid),
    [2],
  );
  await c.command("e2", "EXAMINE INBOX");
  assert.deepEqual(await c.command("f", "EXPUNGE"), ["f NO [READ-ONLY] Mailbox is read-only.\r\n"]);
  c.close();
  other.close();
});
