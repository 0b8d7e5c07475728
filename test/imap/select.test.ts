/** SELECT / EXAMINE / UNSELECT / CHECK, ENABLE and ID, and revalidation of a deleted mailbox. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

test("SELECT reports UNSEEN, UIDVALIDITY and UIDNEXT; a failed SELECT deselects", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 3; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await c.command("t", "STORE 1 +FLAGS (\\Seen)");
  const inbox = (await h.store.getMailbox(user, "INBOX"))!;
  assert.deepEqual(await c.command("a", "EXAMINE inbox"), [
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
    "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n",
    "* 3 EXISTS\r\n",
    "* 0 RECENT\r\n",
    "* OK [UNSEEN 2] First unseen.\r\n",
    `* OK [UIDVALIDITY ${inbox.uidValidity}] UIDs valid\r\n`,
    "* OK [UIDNEXT 4] Predicted next UID\r\n",
    "a OK [READ-ONLY] Examine completed.\r\n",
  ]);
  assert.deepEqual(await c.command("b", "CHECK"), ["b OK Check completed.\r\n"]);
  assert.deepEqual(await c.command("c", "SELECT Nope"), ["c NO [NONEXISTENT] Mailbox doesn't exist.\r\n"]);
  assert.deepEqual(await c.command("d", "FETCH 1 FLAGS"), ["d BAD No mailbox selected\r\n"]);
  await c.command("e", "SELECT INBOX");
  assert.deepEqual(await c.command("f", "UNSELECT"), ["f OK Unselect completed.\r\n"]);
  assert.deepEqual(await c.command("g", "UNSELECT"), ["g BAD No mailbox selected\r\n"]);
  c.close();
});

test("UIDVALIDITY stays, UIDNEXT only grows, across sessions and expunges", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  const first = await c.command("a", "SELECT INBOX");
  await h.deliver([user], message());
  await c.command("b", "STORE 1 +FLAGS.SILENT (\\Deleted)");
  await c.command("c", "EXPUNGE");
  const d = await loggedIn(h.port, user, h.password);
  const second = await d.command("a", "SELECT INBOX");
  assert.equal(first[4], second[4]);
  assert.equal(second[2], "* 0 EXISTS\r\n");
  assert.equal(second[5], "* OK [UIDNEXT 2] Predicted next UID\r\n");
  c.close();
  d.close();
});

test("a session whose selected mailbox is deleted elsewhere says BYE", async () => {
  const user = await h.newUser();
  const a = await loggedIn(h.port, user, h.password);
  const b = await loggedIn(h.port, user, h.password);
  await a.command("c", "CREATE Temp");
  await b.command("s", "SELECT Temp");
  await a.command("d", "DELETE Temp");
  b.write("n NOOP\r\n");
  assert.equal(await b.read(), "* BYE Selected mailbox was deleted, have to disconnect\r\n");
  a.close();
  b.close();
});

test("ENABLE, ID and CAPABILITY in every state", async () => {
  const c = await (await import("./support/raw-client.ts")).RawClient.connect(h.port);
  await c.read();
  assert.deepEqual(await c.command("a", "ID NIL"), [
    '* ID ("name" "chatrelay")\r\n',
    "a OK ID completed.\r\n",
  ]);
  assert.deepEqual(await c.command("b", "ENABLE CONDSTORE"), ["b BAD Please log in first\r\n"]);
  await c.login(await h.newUser(), h.password);
  assert.deepEqual(await c.command("c", "ENABLE CONDSTORE UTF8=ACCEPT"), [
    "* ENABLED\r\n",
    "c OK Enabled.\r\n",
  ]);
  const caps = await c.command("d", "CAPABILITY");
  assert.match(
    caps[0]!,
    /^\* CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL\+ NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE QUOTA QUOTA=RES-STORAGE METADATA XCHATMAIL XDELTAPUSH\r\n$/,
  );
  assert.deepEqual(await c.command("e", "LOGOUT"), ["* BYE Logging out\r\n", "e OK Logout completed.\r\n"]);
  c.close();
});

test("\\Recent: one session per message, EXAMINE does not claim, STATUS counts the unclaimed", async () => {
  const user = await h.newUser();
  await h.deliver([user], message());
  await h.deliver([user], message());
  const a = await loggedIn(h.port, user, h.password);
  const b = await loggedIn(h.port, user, h.password);
  assert.equal((await a.command("a1", "EXAMINE INBOX"))[3], "* 2 RECENT\r\n");
  assert.deepEqual(await b.command("b1", "STATUS INBOX (RECENT)"), [
    "* STATUS INBOX (RECENT 2)\r\n",
    "b1 OK Status completed.\r\n",
  ]);
  assert.equal((await a.command("a2", "SELECT INBOX"))[3], "* 2 RECENT\r\n");
  assert.equal((await b.command("b2", "SELECT INBOX"))[3], "* 0 RECENT\r\n");
  await h.deliver([user], message());
  assert.deepEqual(await a.command("a3", "NOOP"), [
    "* 3 EXISTS\r\n",
    "* 3 RECENT\r\n",
    "a3 OK NOOP completed.\r\n",
  ]);
  assert.deepEqual(await b.command("b3", "NOOP"), ["* 3 EXISTS\r\n", "b3 OK NOOP completed.\r\n"]);
  assert.deepEqual(await a.command("a4", "FETCH 3 FLAGS"), [
    "* 3 FETCH (FLAGS (\\Recent))\r\n",
    "a4 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await b.command("b4", "FETCH 3 FLAGS"), [
    "* 3 FETCH (FLAGS ())\r\n",
    "b4 OK Fetch completed.\r\n",
  ]);
  a.close();
  b.close();
});
