/**
 * LIST / LSUB with special-use attributes, CREATE / DELETE / RENAME / SUBSCRIBE,
 * STATUS, NAMESPACE; modified UTF-7 names pass through unchanged.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

test("LIST of a new account: INBOX, Sent, Trash, Drafts, Junk with special-use", async () => {
  const c = await loggedIn(h.port, await h.newUser(), h.password);
  assert.deepEqual(await c.command("a", 'LIST "" "*"'), [
    '* LIST (\\HasNoChildren) "/" INBOX\r\n',
    '* LIST (\\HasNoChildren \\Drafts) "/" Drafts\r\n',
    '* LIST (\\HasNoChildren \\Junk) "/" Junk\r\n',
    '* LIST (\\HasNoChildren \\Sent) "/" Sent\r\n',
    '* LIST (\\HasNoChildren \\Trash) "/" Trash\r\n',
    "a OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("b", 'LIST "" ""'), [
    '* LIST (\\Noselect) "/" ""\r\n',
    "b OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", 'LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED)'), [
    '* LIST (\\HasNoChildren \\Drafts \\Subscribed) "/" Drafts\r\n',
    '* LIST (\\HasNoChildren \\Junk \\Subscribed) "/" Junk\r\n',
    '* LIST (\\HasNoChildren \\Sent \\Subscribed) "/" Sent\r\n',
    '* LIST (\\HasNoChildren \\Trash \\Subscribed) "/" Trash\r\n',
    "c OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("d", 'LIST "" inbox'), [
    '* LIST (\\HasNoChildren) "/" INBOX\r\n',
    "d OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("e", "NAMESPACE"), [
    '* NAMESPACE (("" "/")) NIL NIL\r\n',
    "e OK Namespace completed.\r\n",
  ]);
  c.close();
});

test("CREATE with parents, hierarchy, % and *, RENAME, DELETE, modified UTF-7", async () => {
  const c = await loggedIn(h.port, await h.newUser(), h.password);
  assert.deepEqual(await c.command("a", 'CREATE "Archive/2024/&AMQ-pfel"'), ["a OK Create completed.\r\n"]);
  assert.deepEqual(await c.command("b", "CREATE Archive"), [
    "b NO [ALREADYEXISTS] Mailbox already exists.\r\n",
  ]);
  assert.deepEqual(await c.command("c", "CREATE inbox"), [
    "c NO [ALREADYEXISTS] Mailbox already exists.\r\n",
  ]);
  assert.deepEqual(await c.command("d", 'CREATE "bad*name"'), [
    "d BAD Mailbox name contains invalid characters.\r\n",
  ]);
  assert.deepEqual(await c.command("e", 'LIST "" "Archive/%"'), [
    '* LIST (\\HasChildren) "/" Archive/2024\r\n',
    "e OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("f", 'LIST "Archive/" "*"'), [
    '* LIST (\\HasChildren) "/" Archive/2024\r\n',
    '* LIST (\\HasNoChildren) "/" Archive/2024/&AMQ-pfel\r\n',
    "f OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("g", 'RENAME "Archive" "Old"'), ["g OK Rename completed.\r\n"]);
  assert.deepEqual(await c.command("h", 'LIST "" "Old*"'), [
    '* LIST (\\HasChildren) "/" Old\r\n',
    '* LIST (\\HasChildren) "/" Old/2024\r\n',
    '* LIST (\\HasNoChildren) "/" Old/2024/&AMQ-pfel\r\n',
    "h OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("i", 'RENAME "Old" "Sent"'), [
    "i NO [ALREADYEXISTS] Target mailbox already exists.\r\n",
  ]);
  assert.deepEqual(await c.command("j", 'RENAME "Nope" "X"'), [
    "j NO [NONEXISTENT] Mailbox doesn't exist.\r\n",
  ]);
  assert.deepEqual(await c.command("k", "DELETE Old"), ["k OK Delete completed.\r\n"]);
  // The children stay; the vanished parent shows as \Noselect under %.
  assert.deepEqual(await c.command("l", 'LIST "" "%"'), [
    '* LIST (\\HasNoChildren) "/" INBOX\r\n',
    '* LIST (\\HasNoChildren \\Drafts) "/" Drafts\r\n',
    '* LIST (\\HasNoChildren \\Junk) "/" Junk\r\n',
    '* LIST (\\Noselect \\HasChildren) "/" Old\r\n',
    '* LIST (\\HasNoChildren \\Sent) "/" Sent\r\n',
    '* LIST (\\HasNoChildren \\Trash) "/" Trash\r\n',
    "l OK List completed.\r\n",
  ]);
  assert.deepEqual(await c.command("m", "DELETE INBOX"), ["m NO [CANNOT] INBOX can't be deleted.\r\n"]);
  assert.deepEqual(await c.command("n", "DELETE Nope"), ["n NO [NONEXISTENT] Mailbox doesn't exist.\r\n"]);
  c.close();
});

test("RENAME INBOX moves its messages and leaves INBOX empty", async () => {
  const user = await h.newUser();
  await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  assert.deepEqual(await c.command("a", "RENAME INBOX Saved"), ["a OK Rename completed.\r\n"]);
  assert.deepEqual(await c.command("b", "STATUS INBOX (MESSAGES)"), [
    "* STATUS INBOX (MESSAGES 0)\r\n",
    "b OK Status completed.\r\n",
  ]);
  assert.deepEqual(await c.command("c", "STATUS Saved (MESSAGES)"), [
    "* STATUS Saved (MESSAGES 1)\r\n",
    "c OK Status completed.\r\n",
  ]);
  c.close();
});

test("SUBSCRIBE, UNSUBSCRIBE and LSUB", async () => {
  const c = await loggedIn(h.port, await h.newUser(), h.password);
  await c.command("a", "CREATE Projects");
  assert.deepEqual(await c.command("b", "SUBSCRIBE Projects"), ["b OK Subscribe completed.\r\n"]);
  assert.deepEqual(await c.command("c", 'LSUB "" "P*"'), [
    '* LSUB () "/" Projects\r\n',
    "c OK Lsub completed.\r\n",
  ]);
  assert.deepEqual(await c.command("d", "UNSUBSCRIBE Projects"), ["d OK Unsubscribe completed.\r\n"]);
  assert.deepEqual(await c.command("e", 'LSUB "" "P*"'), ["e OK Lsub completed.\r\n"]);
  assert.deepEqual(await c.command("f", 'LIST (SUBSCRIBED) "" "P*"'), ["f OK List completed.\r\n"]);
  assert.deepEqual(await c.command("g", "SUBSCRIBE Nope"), ["g NO [NONEXISTENT] Mailbox doesn't exist.\r\n"]);
  c.close();
});

test("STATUS items", async () => {
  const user = await h.newUser();
  await h.deliver([user], message({ body: "a" }));
  await h.deliver([user], message({ body: "b" }));
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  await c.command("t", "STORE 1 +FLAGS (\\Seen \\Deleted)");
  const inbox = (await h.store.getMailbox(user, "INBOX"))!;
  const size = (await h.store.listMessages(inbox.id)).reduce((n, r) => n + r.size, 0);
  assert.deepEqual(
    await c.command("a", "STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE)"),
    [
      `* STATUS INBOX (MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY ${inbox.uidValidity} UNSEEN 1 DELETED 1 SIZE ${size})\r\n`,
      "a OK Status completed.\r\n",
    ],
  );
  assert.deepEqual(await c.command("b", "STATUS INBOX (FOO)"), ["b BAD Unknown STATUS item FOO.\r\n"]);
  assert.deepEqual(await c.command("c", "STATUS Nope (MESSAGES)"), [
    "c NO [NONEXISTENT] Mailbox doesn't exist.\r\n",
  ]);
  c.close();
});
