/**
 * When expiry removes an inactive account, its open IMAP sessions end with BYE
 * (one idling, one not selected), its cached login is forgotten, and whoever
 * registers the address next starts from nothing: no old messages, a new
 * UIDVALIDITY, its own login day, and the old password does not open the new account.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expire } from "../../src/expire/expire.ts";
import { silentLogger } from "../../src/log.ts";
import { loggedIn, quote, RawClient } from "../imap/support/raw-client.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp.ts";

let r: TestRelay;
before(async () => {
  r = await startTestRelay();
});
after(() => r.close());

test("expiry of an account ends its sessions and leaves nothing to a re-registered owner", async () => {
  const { store, bus, config } = r.relay.parts;
  const user = r.newAddress();
  const idle = await loggedIn(r.imapsPort, user, r.password);
  const other = await loggedIn(r.imapsPort, user, r.password);
  const smtp = await RawSmtp.connect(r.submissionPort);
  await smtp.command("EHLO client.test");
  await smtp.starttls();
  await smtp.command("EHLO client.test");
  const plain = Buffer.from(`\0${user}\0${r.password}`).toString("base64");
  assert.match(await smtp.command(`AUTH PLAIN ${plain}`), /^235 /);
  const inbox = (await store.getMailbox(user, "INBOX"))!;
  await store.append(inbox.id, { data: Buffer.from("Subject: secret\r\n\r\nold owner's mail\r\n") });
  assert.match((await idle.command("s", "SELECT INBOX")).join(""), /\* 1 EXISTS/);
  idle.write("i IDLE\r\n");
  await idle.waitFor(/^\+ /);

  // Inactive for longer than delete_inactive_users_after.
  const now = Date.now();
  await store.setLastLoginDay(
    user,
    Math.floor(now / 1000) - (config.delete_inactive_users_after + 2) * 86400,
  );
  const report = await expire({ config, store, bus, log: silentLogger, now });
  assert.ok(report.accountsRemoved >= 1);
  assert.equal(await store.getAccount(user), undefined);

  for (const c of [idle, other]) {
    const seen = await c.waitFor(/^\* BYE /, 5000);
    assert.match(seen[seen.length - 1]!, /^\* BYE Account removed\r\n$/);
    await until(() => c.closed);
  }

  // The submission session of the removed account is ended too.
  assert.match(await smtp.reply(), /^421 4\.7\.0 Account removed/);
  smtp.close();

  // Someone else registers the address with another password.
  const newcomer = await loggedIn(r.imapsPort, user, "another-password-456");
  const select = (await newcomer.command("s", "SELECT INBOX")).join("");
  assert.match(select, /\* 0 EXISTS/);
  const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(select)![1]);
  assert.ok(uidValidity > inbox.uidValidity, "a new UIDVALIDITY");
  newcomer.close();
  // Its login is recorded: nothing cached about the old owner's logins stands in the way.
  const today = Math.floor(Date.now() / 86_400_000) * 86400;
  await r.relay.parts.accounts.settled();
  assert.equal((await store.getAccount(user))?.lastLoginDay, today);

  // The old owner's password (cached at its logins) no longer works.
  const old = await RawClient.connect(r.imapsPort);
  await old.read();
  const answer = await old.command("L", `LOGIN ${quote(user)} ${quote(r.password)}`);
  assert.match(answer[answer.length - 1]!, /^L NO /);
  old.close();
});

async function until(f: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((res) => setTimeout(res, 20));
  }
}
