/**
 * The real Delta Chat core: a group of three on one relay (keys of the members
 * who never met are gossiped inside the encrypted group messages) and a read
 * receipt travelling back to the sender.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type DcAccount, DeltaChat, randomAddress, secureJoin } from "../support/deltachat.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { PASSWORD, serverOf } from "./helpers.ts";

describe("Delta Chat core, group of three and read receipts", () => {
  let relay: TestRelay;
  let dc: DeltaChat;
  let alice: DcAccount;
  let bob: DcAccount;
  let carol: DcAccount;
  let aliceGroup = 0;
  /** Bob and Carol as Alice's contacts. */
  const contacts = new Map<DcAccount, number>();

  before(async () => {
    relay = await startTestRelay();
    dc = await DeltaChat.start();
    const server = serverOf(relay);
    [alice, bob, carol] = await Promise.all(
      ["Alice", "Bob", "Carol"].map((name) =>
        dc.login(server, randomAddress(relay.domain), PASSWORD, { name }),
      ),
    );
    for (const member of [bob, carol]) contacts.set(member, (await secureJoin(alice, member)).joinerContact);
  });
  after(async () => {
    await dc?.close();
    await relay?.close();
  });

  test("a group of three: everyone receives everyone's messages, encrypted", async () => {
    aliceGroup = await dc.rpc.createGroupChat(alice.id, "three", false);
    for (const member of [bob, carol])
      await dc.rpc.addContactToChat(alice.id, aliceGroup, contacts.get(member)!);
    const fromAlice = "welcome to the group";
    const [bobGot, carolGot] = await Promise.all([
      bob.waitForMessage((m) => m.text === fromAlice),
      carol.waitForMessage((m) => m.text === fromAlice),
      alice.send(aliceGroup, fromAlice),
    ]);
    for (const m of [bobGot, carolGot]) {
      assert.equal(m.showPadlock, true);
      const chat = await dc.rpc.getBasicChatInfo(m.id === bobGot.id ? bob.id : carol.id, m.chatId);
      assert.equal(chat.chatType, "Group");
      assert.equal(chat.name, "three");
    }
    assert.equal((await dc.rpc.getChatContacts(bob.id, bobGot.chatId)).length, 3);

    // Bob never met Carol: her key reached him by gossip, so his reply is encrypted to both.
    const fromBob = "hello carol, hello alice";
    const [aliceGot, carolGot2] = await Promise.all([
      alice.waitForMessage((m) => m.text === fromBob),
      carol.waitForMessage((m) => m.text === fromBob),
      bob.send(bobGot.chatId, fromBob),
    ]);
    assert.equal(aliceGot.chatId, aliceGroup);
    assert.equal(carolGot2.chatId, carolGot.chatId);
    assert.equal(aliceGot.showPadlock, true);
    assert.equal(carolGot2.showPadlock, true);
  });

  test("a read receipt reaches the sender", async () => {
    const text = "please read this";
    const [got, sentId] = await Promise.all([
      carol.waitForMessage((m) => m.text === text),
      alice.send(aliceGroup, text),
    ]);
    const read = alice.waitFor("MsgRead", (e) => e.msgId === sentId);
    await dc.rpc.markseenMsgs(carol.id, [got.id]);
    await read;
    const receipts = await dc.rpc.getMessageReadReceipts(alice.id, sentId);
    assert.deepEqual(
      receipts.map((r) => r.contactId),
      [contacts.get(carol)],
    );
  });
});
