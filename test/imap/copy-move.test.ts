/** COPY / MOVE with COPYUID (RFC 4315, RFC 6851); other sessions learn of both ends. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

test("COPY and UID COPY report COPYUID; flags are copied", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 3; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await c.command("f", "STORE 2 +FLAGS (\\Flagged)");
  const trash = (await h.store.getMailbox(user, "Trash"))!;
  assert.deepEqual(await c.command("a", "COPY 2:3 Trash"), [
    `a OK [COPYUID ${trash.uidValidity} 2:3 1:2] Copy completed.\r\n`,
  ]);
  assert.deepEqual(await c.command("b", "UID COPY 1,3 Trash"), [
    `b OK [COPYUID ${trash.uidValidity} 1,3 3:4] Copy completed.\r\n`,
  ]);
  assert.deepEqual(
    (await h.store.listMessages(trash.id)).map((r) => [r.uid, r.flags]),
    [
      [1, ["\\Flagged"]],
      [2, []],
      [3, []],
      [4, []],
    ],
  );
  assert.deepEqual(await c.command("c", "COPY 1 Nope"), ["c NO [TRYCREATE] Mailbox doesn't exist.\r\n"]);
  assert.deepEqual(await c.command("d", "COPY 9 Trash"), ["d BAD Invalid messageset\r\n"]);
  assert.deepEqual(await c.command("e", "UID COPY 99 Trash"), ["e OK No messages to copy.\r\n"]);
  // Copy to the selected mailbox: EXISTS in the same response.
  assert.deepEqual(await c.command("g", "COPY 1 INBOX"), [
    "* 4 EXISTS\r\n",
    "* 4 RECENT\r\n",
    `g OK [COPYUID ${(await h.store.getMailbox(user, "INBOX"))!.uidValidity} 1 4] Copy completed.\r\n`,
  ]);
  c.close();
});

test("MOVE reports COPYUID then EXPUNGE; a session on the target sees EXISTS", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 4; i++) await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  const watcher = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await watcher.command("s", "SELECT Junk");
  watcher.write("i IDLE\r\n");
  assert.equal(await watcher.read(), "+ idling\r\n");
  const junk = (await h.store.getMailbox(user, "Junk"))!;
  assert.deepEqual(await c.command("a", "MOVE 2:3 Junk"), [
    `* OK [COPYUID ${junk.uidValidity} 2:3 1:2] Moved UIDs.\r\n`,
    "* 3 EXPUNGE\r\n",
    "* 2 EXPUNGE\r\n",
    "a OK Move completed.\r\n",
  ]);
  assert.equal(await watcher.read(), "* 2 EXISTS\r\n");
  assert.equal(await watcher.read(), "* 2 RECENT\r\n");
  assert.deepEqual(await c.command("b", "UID MOVE 4 Junk"), [
    `* OK [COPYUID ${junk.uidValidity} 4 3] Moved UIDs.\r\n`,
    "* 2 EXPUNGE\r\n",
    "b OK Move completed.\r\n",
  ]);
  assert.equal(await watcher.read(), "* 3 EXISTS\r\n");
  assert.equal(await watcher.read(), "* 3 RECENT\r\n");
  assert.deepEqual(await c.command("c", "FETCH 1:* (UID)"), [
    "* 1 FETCH (UID 1)\r\n",
    "c OK Fetch completed.\r\n",
  ]);
  await c.command("d", "EXAMINE INBOX");
  assert.deepEqual(await c.command("e", "MOVE 1 Junk"), ["e NO [READ-ONLY] Mailbox is read-only.\r\n"]);
  c.close();
  watcher.close();
});
