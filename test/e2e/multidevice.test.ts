/**
 * The real Delta Chat core: a second device of the same account (set up from
 * a backup, both with bcc_self=1) receives the copy of what the first device
 * sent, and both devices receive what the peer sends.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DcAccount, DeltaChat, randomAddress, SELF, secureJoin } from "../support/deltachat.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { PASSWORD, serverOf } from "./helpers.ts";

describe("Delta Chat core, second device of the same account", () => {
  let relay: TestRelay;
  let dc: DeltaChat;
  let alice: DcAccount;
  let alice2: DcAccount;
  let bob: DcAccount;
  let aliceChat = 0;
  let bobChat = 0;
  const scratch = mkdtempSync(join(tmpdir(), "chatrelay-e2e-backup-"));

  before(async () => {
    relay = await startTestRelay();
    dc = await DeltaChat.start();
    const server = serverOf(relay);
    [alice, bob] = await Promise.all([
      dc.login(server, randomAddress(relay.domain), PASSWORD, { name: "Alice" }),
      dc.login(server, randomAddress(relay.domain), PASSWORD, { name: "Bob" }),
    ]);
    ({ inviterChat: aliceChat, joinerChat: bobChat } = await secureJoin(alice, bob));
  });
  after(async () => {
    await dc?.close();
    await relay?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("a device set up from a backup logs in to the same mailbox", async () => {
    await dc.rpc.setConfig(alice.id, "bcc_self", "1");
    const written = alice.waitFor("ImexFileWritten");
    await dc.rpc.exportBackup(alice.id, scratch, null);
    await written;
    const [file] = readdirSync(scratch).filter((f) => f.endsWith(".tar"));
    assert.ok(file, "backup file written");
    alice2 = await dc.importBackup(join(scratch, file), alice.addr);
    assert.equal(await alice2.config("configured_addr"), alice.addr);
    assert.equal(await alice2.config("bcc_self"), "1");
  });

  test("the second device receives its own sent copy (bcc_self)", async () => {
    const text = "sent from the first device";
    const [copy, atBob] = await Promise.all([
      alice2.waitForMessage((m) => m.text === text),
      bob.waitForMessage((m) => m.text === text),
      alice.send(aliceChat, text),
    ]);
    assert.equal(copy.fromId, SELF, "shown as outgoing on the second device");
    assert.equal(copy.showPadlock, true);
    assert.equal(atBob.showPadlock, true);
    const peer = (await dc.rpc.getChatContacts(alice2.id, copy.chatId)).filter((c) => c !== SELF);
    assert.equal(peer.length, 1);
    assert.equal((await dc.rpc.getContact(alice2.id, peer[0]!)).address, bob.addr);
  });

  test("both devices receive the peer's reply", async () => {
    const text = "reply to both of your devices";
    const [one, two] = await Promise.all([
      alice.waitForMessage((m) => m.text === text),
      alice2.waitForMessage((m) => m.text === text),
      bob.send(bobChat, text),
    ]);
    assert.notEqual(one.fromId, SELF);
    assert.notEqual(two.fromId, SELF);
  });
});
