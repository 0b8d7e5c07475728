/** The per-session mailbox view: pending EXISTS / EXPUNGE / FLAGS and when they are reported. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MailboxEvent } from "../../src/events/bus.ts";
import { MailboxView } from "../../src/imap/mailbox-view.ts";
import type { MessageRecord } from "../../src/store/types.ts";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

const MB = 7;

function rec(uid: number, flags: string[] = []): MessageRecord {
  return { mailboxId: MB, uid, flags, internalDate: 0, size: 1, blobId: "b" };
}

function exists(...uids: number[]): MailboxEvent {
  return { kind: "exists", address: "a@x", mailboxId: MB, records: uids.map((u) => rec(u)) };
}

function expunge(...uids: number[]): MailboxEvent {
  return { kind: "expunge", address: "a@x", mailboxId: MB, uids };
}

test("EXISTS in UID order, EXPUNGE only when allowed and highest first, FLAGS with UID", () => {
  const floor = new Map([[MB, 100]]);
  const v = new MailboxView(MB, "INBOX", 1, false, [1, 2, 3], floor);
  v.apply(exists(6));
  v.apply(exists(5)); // published out of order but not yet announced: kept in order
  v.apply({ kind: "exists", address: "a@x", mailboxId: MB + 1, records: [rec(9)] }); // another mailbox
  assert.equal(v.flush(false), "* 5 EXISTS\r\n");
  assert.deepEqual(v.uids, [1, 2, 3, 5, 6]);
  v.apply(expunge(2, 5));
  v.apply({
    kind: "flags",
    address: "a@x",
    mailboxId: MB,
    records: [rec(3, ["\\Seen"]), rec(2, ["\\Seen"])],
  });
  // Not allowed now (FETCH/STORE/SEARCH): numbers stay, flags of the survivor are reported.
  assert.equal(v.flush(false), "* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n");
  assert.equal(v.isExpunged(2), true);
  assert.equal(v.flush(true), "* 4 EXPUNGE\r\n* 2 EXPUNGE\r\n");
  assert.deepEqual(v.uids, [1, 3, 6]);
  // An expunge of an unannounced message is silent.
  v.apply(exists(7));
  v.apply(expunge(7));
  assert.equal(v.flush(true), "");
});

test("a UID below announced ones that is unknown is suspect", () => {
  const v = new MailboxView(MB, "INBOX", 1, false, [1, 3], new Map());
  v.apply(exists(2));
  assert.deepEqual(v.suspect, [2]);
  assert.equal(v.flush(true), "");
});

test("\\Recent is claimed once per mailbox; read-only views do not claim", () => {
  const floor = new Map<number, number>();
  const ro = new MailboxView(MB, "INBOX", 1, true, [1, 2], floor);
  ro.absorb();
  assert.equal(ro.recentCount, 2);
  const a = new MailboxView(MB, "INBOX", 1, false, [1, 2], floor);
  a.absorb();
  assert.equal(a.recentCount, 2);
  const b = new MailboxView(MB, "INBOX", 1, false, [1, 2], floor);
  b.absorb();
  assert.equal(b.recentCount, 0);
  a.apply(exists(3));
  b.apply(exists(3));
  assert.equal(b.flush(true), "* 3 EXISTS\r\n* 1 RECENT\r\n");
  assert.equal(a.flush(true), "* 3 EXISTS\r\n");
  assert.deepEqual(b.flagsOf(3, ["\\Seen"]), ["\\Seen", "\\Recent"]);
  assert.deepEqual(a.flagsOf(3, ["\\Seen"]), ["\\Seen"]);
});

let h: ImapHarness;
before(async () => {
  h = await startImap();
});
after(() => h.close());

test("a message that appears below announced UIDs makes the session reconnect", async () => {
  const user = await h.newUser();
  await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  // UID 2 is committed but its event is late; UID 3 is announced first.
  const late = await h.store.deliver([user], { data: Buffer.from(message()) });
  await h.deliver([user], message());
  assert.deepEqual(await c.command("n", "NOOP"), [
    "* 2 EXISTS\r\n",
    "* 2 RECENT\r\n",
    "n OK NOOP completed.\r\n",
  ]);
  const [[address, record]] = [...late];
  h.bus.publish({ kind: "exists", address: address!, mailboxId: record!.mailboxId, records: [record!] });
  assert.equal(await c.read(), "* BYE Mailbox state changed, please reconnect\r\n");
  c.close();
});
