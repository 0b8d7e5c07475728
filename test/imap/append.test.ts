/** APPEND with APPENDUID (RFC 4315), flags and date, literals, size and quota limits. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap({ config: { max_message_size: 64 * 1024, max_mailbox_size: 200 * 1024 } });
});
after(() => h.close());

test("APPEND with flags and date returns APPENDUID; the selected session sees EXISTS", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  const other = await loggedIn(h.port, user, h.password);
  await other.command("s", "SELECT Sent");
  const sent = (await h.store.getMailbox(user, "Sent"))!;
  const raw = message({ subject: "appended" });
  c.write(`a APPEND Sent (\\Seen $Label) "07-Feb-1994 21:52:25 -0800" {${raw.length}}\r\n`);
  assert.equal(await c.read(), "+ Ready for literal data\r\n");
  c.write(`${raw}\r\n`);
  assert.deepEqual(await c.until("a"), [`a OK [APPENDUID ${sent.uidValidity} 1] Append completed.\r\n`]);
  const [rec] = await h.store.listMessages(sent.id);
  assert.deepEqual(rec!.flags, ["\\Seen", "$Label"]);
  assert.equal(rec!.internalDate, Date.UTC(1994, 1, 8, 5, 52, 25));
  assert.equal((await h.store.readBlob(rec!.blobId)).toString(), raw);
  assert.deepEqual(await other.command("n", "NOOP"), [
    "* 1 EXISTS\r\n",
    "* 1 RECENT\r\n",
    "n OK NOOP completed.\r\n",
  ]);
  // Appending to the selected mailbox reports EXISTS in the same command.
  c.write(`b SELECT Sent\r\nc APPEND Sent {${raw.length}+}\r\n${raw}\r\n`);
  await c.until("b");
  assert.deepEqual(await c.until("c"), [
    "* 2 EXISTS\r\n",
    "* 1 RECENT\r\n",
    `c OK [APPENDUID ${sent.uidValidity} 2] Append completed.\r\n`,
  ]);
  assert.deepEqual(await c.command("d", "APPEND Nope {1+}\r\nx"), [
    "d NO [TRYCREATE] Mailbox doesn't exist.\r\n",
  ]);
  assert.deepEqual(await c.command("e", "APPEND Sent (\\Recent) {1+}\r\nx"), [
    "e BAD Invalid system flag \\Recent\r\n",
  ]);
  c.close();
  other.close();
});

test("APPEND over max_message_size is refused before the literal; the session stays in step", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  c.write(`a APPEND INBOX {${64 * 1024 + 1}}\r\n`);
  assert.equal(await c.read(), "a NO [TOOBIG] Literal too large\r\n");
  // A non-synchronizing one is read and thrown away.
  c.write(`b APPEND INBOX {${70 * 1024}+}\r\n${"x".repeat(70 * 1024)}\r\nc NOOP\r\n`);
  assert.equal(await c.read(), "b NO [TOOBIG] Literal too large\r\n");
  assert.deepEqual(await c.until("c"), ["c OK NOOP completed.\r\n"]);
  // Before login even small APPEND literals are refused.
  const d = await (await import("./support/raw-client.ts")).RawClient.connect(h.port);
  await d.read();
  d.write("x APPEND INBOX {70000}\r\n");
  assert.equal(await d.read(), "x NO [TOOBIG] Literal too large\r\n");
  d.close();
  c.close();
});

test("APPEND over the quota gets NO [OVERQUOTA]", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  const big = message({ body: "z".repeat(60 * 1024) });
  for (let i = 0; i < 3; i++) {
    const r = await c.command(`a${i}`, `APPEND INBOX {${big.length}+}\r\n${big}`);
    assert.match(r[0]!, /OK \[APPENDUID/);
  }
  assert.deepEqual(await c.command("b", `APPEND INBOX {${big.length}+}\r\n${big}`), [
    "b NO [OVERQUOTA] Quota exceeded (mailbox for user is full).\r\n",
  ]);
  c.close();
});
