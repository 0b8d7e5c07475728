/**
 * The exact command sequence of Delta Chat 2.57 (as sent by chatmail/core
 * src/imap.rs, src/imap/select_folder.rs) as a raw transcript, compared byte for byte.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { RawClient } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap({
    config: {
      privacy_mail: "privacy@example.org",
      iroh_relay: "https://iroh.example.org/",
      turn_secret: "north",
      turn_host: "turn.example.org",
      turn_port: 3478,
    },
  });
});
after(() => h.close());

const PREFETCH =
  "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE X-MICROSOFT-ORIGINAL-MESSAGE-ID FROM CONTENT-TYPE SECURE-JOIN CHAT-VERSION CHAT-IS-POST-MESSAGE AUTOCRYPT-SETUP-MESSAGE)])";
const PREFETCH_ECHO =
  "BODY[HEADER.FIELDS (MESSAGE-ID DATE X-MICROSOFT-ORIGINAL-MESSAGE-ID FROM CONTENT-TYPE SECURE-JOIN CHAT-VERSION CHAT-IS-POST-MESSAGE AUTOCRYPT-SETUP-MESSAGE)]";
const CAPS =
  "IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE QUOTA QUOTA=RES-STORAGE METADATA XCHATMAIL XDELTAPUSH";

test("Delta Chat 2.57 session, byte for byte", async () => {
  const user = await h.newUser();
  const c = await RawClient.connect(h.port);
  assert.equal(await c.read(), `* OK [CAPABILITY ${CAPS} AUTH=PLAIN] _chatrelay.test chatrelay ready\r\n`);
  assert.deepEqual(await c.command("A0001", `LOGIN "${user}" "${h.password}"`), [
    `A0001 OK [CAPABILITY ${CAPS}] Logged in\r\n`,
  ]);
  assert.deepEqual(await c.command("A0002", 'ID ("name" "Delta Chat")'), [
    '* ID ("name" "chatrelay")\r\n',
    "A0002 OK ID completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A0003", 'GETQUOTAROOT "INBOX"'), [
    '* QUOTAROOT INBOX "User quota"\r\n',
    '* QUOTA "User quota" (STORAGE 0 512000)\r\n',
    "A0003 OK Getquotaroot completed.\r\n",
  ]);

  const meta = await c.command(
    "A0004",
    'GETMETADATA "" (/shared/comment /shared/admin /shared/vendor/deltachat/irohrelay /shared/vendor/deltachat/turn /shared/vendor/deltachat/maxsmtprecipients)',
  );
  assert.equal(meta.length, 2);
  const m =
    /^\* METADATA "" \(\/shared\/admin "mailto:privacy@example\.org" \/shared\/vendor\/deltachat\/irohrelay "https:\/\/iroh\.example\.org\/" \/shared\/vendor\/deltachat\/turn "turn\.example\.org:3478:(\d+):([A-Za-z0-9+/=]+)" \/shared\/vendor\/deltachat\/maxsmtprecipients "1000"\)\r\n$/.exec(
      meta[0]!,
    );
  assert.ok(m, meta[0]);
  const expiry = Number(m[1]);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(expiry - (now + 5 * 86400)) < 60);
  assert.equal(m[2], createHmac("sha1", "north").update(m[1]!).digest("base64"));
  assert.equal(meta[1], "A0004 OK Getmetadata completed.\r\n");

  // 2.57 sends the token as a non-synchronizing literal whatever is advertised.
  const token = `openpgp:${Buffer.alloc(600, 7).toString("base64")}`;
  c.write(`A0005 SETMETADATA "INBOX" (/private/devicetoken {${token.length}+}\r\n${token})\r\n`);
  assert.deepEqual(await c.until("A0005"), ["A0005 OK Setmetadata completed.\r\n"]);
  assert.deepEqual(
    (await h.store.getDeviceTokens(user)).map((t) => t.token),
    [token],
  );

  const inbox = (await h.store.getMailbox(user, "INBOX"))!;
  assert.deepEqual(await c.command("A0006", 'SELECT "INBOX"'), [
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n",
    "* 0 EXISTS\r\n",
    "* 0 RECENT\r\n",
    `* OK [UIDVALIDITY ${inbox.uidValidity}] UIDs valid\r\n`,
    "* OK [UIDNEXT 1] Predicted next UID\r\n",
    "A0006 OK [READ-WRITE] Select completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A0007", `UID FETCH 1:500 ${PREFETCH}`), [
    "A0007 OK Fetch completed.\r\n",
  ]);

  c.write("A0008 IDLE\r\n");
  assert.equal(await c.read(), "+ idling\r\n");
  const raw = message({ id: "dc1" });
  await h.deliver([user], raw);
  assert.equal(await c.read(), "* 1 EXISTS\r\n");
  // The first session to learn of a message gets it as \Recent (RFC 3501 §2.3.2), as with Dovecot.
  assert.equal(await c.read(), "* 1 RECENT\r\n");
  c.write("DONE\r\n");
  assert.deepEqual(await c.until("A0008"), ["A0008 OK IDLE terminated.\r\n"]);

  const header = [
    "From: Alice <alice@example.org>",
    "Date: Mon, 7 Feb 1994 21:52:25 -0800",
    "Message-ID: <dc1@example.org>",
    "Chat-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "",
  ].join("\r\n");
  assert.deepEqual(await c.command("A0009", `UID FETCH 1:500 ${PREFETCH}`), [
    `* 1 FETCH (UID 1 RFC822.SIZE ${raw.length} ${PREFETCH_ECHO} {${header.length}}\r\n${header})\r\n`,
    "A0009 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A0010", "UID FETCH 1 (FLAGS BODY.PEEK[])"), [
    `* 1 FETCH (UID 1 FLAGS (\\Recent) BODY[] {${raw.length}}\r\n${raw})\r\n`,
    "A0010 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A0011", "UID STORE 1 +FLAGS (\\Deleted)"), [
    "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n",
    "A0011 OK Store completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A0012", "CLOSE"), ["A0012 OK Close completed.\r\n"]);
  assert.deepEqual(await h.store.listMessages(inbox.id), []);
  const reselect = await c.command("A0013", 'SELECT "INBOX"');
  assert.equal(reselect[2], "* 0 EXISTS\r\n");
  assert.equal(reselect[5], "* OK [UIDNEXT 2] Predicted next UID\r\n");
  c.write("A0014 IDLE\r\n");
  assert.equal(await c.read(), "+ idling\r\n");
  c.write("DONE\r\n");
  assert.deepEqual(await c.until("A0014"), ["A0014 OK IDLE terminated.\r\n"]);
  assert.deepEqual(await c.command("A0015", `UID FETCH 2:501 ${PREFETCH}`), [
    "A0015 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A0016", 'GETMETADATA "INBOX" (/private/devicetoken)'), [
    `* METADATA "INBOX" (/private/devicetoken "${token}")\r\n`,
    "A0016 OK Getmetadata completed.\r\n",
  ]);
  c.close();
});

test("Delta Chat resync fetch and fallback commands", async () => {
  const user = await h.newUser();
  const c = await RawClient.connect(h.port);
  await c.read();
  await c.login(user, h.password);
  const raw = message({ id: "dc2" });
  await h.deliver([user], raw);
  await h.deliver([user], message({ id: "dc3" }));
  assert.deepEqual(await c.command("A1", 'STATUS "INBOX" (UIDNEXT)'), [
    "* STATUS INBOX (UIDNEXT 3)\r\n",
    "A1 OK Status completed.\r\n",
  ]);
  await c.command("A2", 'SELECT "INBOX"');
  const r = await c.command(
    "A3",
    "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MICROSOFT-ORIGINAL-MESSAGE-ID)])",
  );
  assert.deepEqual(r, [
    "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (MESSAGE-ID X-MICROSOFT-ORIGINAL-MESSAGE-ID)] {33}\r\nMessage-ID: <dc2@example.org>\r\n\r\n)\r\n",
    "* 2 FETCH (UID 2 BODY[HEADER.FIELDS (MESSAGE-ID X-MICROSOFT-ORIGINAL-MESSAGE-ID)] {33}\r\nMessage-ID: <dc3@example.org>\r\n\r\n)\r\n",
    "A3 OK Fetch completed.\r\n",
  ]);
  // Fetch windows past the last UID return only existing messages.
  const w = await c.command("A4", "UID FETCH 2:501 (UID RFC822.SIZE)");
  assert.equal(w.length, 2);
  assert.match(w[0]!, /^\* 2 FETCH \(UID 2 RFC822\.SIZE \d+\)\r\n$/);
  assert.deepEqual(await c.command("A5", "UID FETCH 3:502 (UID RFC822.SIZE)"), [
    "A5 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await c.command("A6", "UID STORE 1:2 +FLAGS (\\Seen)"), [
    "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))\r\n",
    "* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent))\r\n",
    "A6 OK Store completed.\r\n",
  ]);
  const moved = await c.command("A7", 'UID MOVE 1 "Trash"');
  assert.match(moved[0]!, /^\* OK \[COPYUID \d+ 1 1\] Moved UIDs\.\r\n$/);
  assert.deepEqual(moved.slice(1), ["* 1 EXPUNGE\r\n", "A7 OK Move completed.\r\n"]);
  c.close();
});
