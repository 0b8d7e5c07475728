/**
 * IMAP answers to failures inside the server (RFC 5530 §3): an unexpected
 * error is `NO [SERVERBUG]` without its details and the session goes on; a
 * store that cannot serve right now (out of space, or failing at login) is
 * `NO [UNAVAILABLE]`, a temporary condition the client retries.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Store } from "../../src/store/types.ts";
import { StoreError } from "../../src/store/types.ts";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn, RawClient } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

/** Replaces `method` of the harness store with one that throws `err`; returns the undo. */
function failing<K extends keyof Store>(method: K, err: Error): () => void {
  const store = h.store as unknown as Record<string, unknown>;
  const original = store[method];
  store[method] = async () => {
    throw err;
  };
  return () => {
    store[method] = original;
  };
}

test("an internal error is NO [SERVERBUG] without its details, and the session goes on", async () => {
  const user = await h.newUser();
  await h.deliver([user], message());
  const c = await loggedIn(h.port, user, h.password);
  const undo = failing("getMailbox", new Error("secret /var/lib detail"));
  try {
    assert.deepEqual(await c.command("a", "SELECT INBOX"), ["a NO [SERVERBUG] Internal error\r\n"]);
  } finally {
    undo();
  }
  const ok = await c.command("b", "SELECT INBOX");
  assert.equal(ok.at(-1), "b OK [READ-WRITE] Select completed.\r\n");
  assert.ok(ok.includes("* 1 EXISTS\r\n"));
  c.close();
});

test("a full store during a command is NO [UNAVAILABLE]", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  const undo = failing(
    "usedBytes",
    new StoreError("FULL", "Insufficient storage on the server, try again later"),
  );
  try {
    const reply = await c.command("q", 'GETQUOTAROOT "INBOX"');
    assert.match(reply.at(-1) ?? "", /^q NO \[UNAVAILABLE\] /);
  } finally {
    undo();
  }
  const again = await c.command("r", 'GETQUOTAROOT "INBOX"');
  assert.match(again.at(-1) ?? "", /^r OK /);
  c.close();
});

test("a failing store at LOGIN is NO [UNAVAILABLE], not a wrong password", async () => {
  const c = await RawClient.connect(h.port);
  await c.read();
  const undo = failing("getAccount", new Error("database is locked"));
  try {
    const reply = await c.command("l", `LOGIN newcomer1@${h.config.mail_domain} ${h.password}`);
    assert.match(reply.at(-1) ?? "", /^l NO \[UNAVAILABLE\] /);
  } finally {
    undo();
  }
  c.close();
});
