/**
 * The real Delta Chat core against one relay: configuration through login,
 * Secure-Join (v3 QR), encrypted messages both ways, awkward texts and a
 * 10 MiB attachment split into pre-message and post-message.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type DcAccount,
  DeltaChat,
  randomAddress,
  SELF,
  secureJoin,
  sendAndReceive,
} from "../support/deltachat.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { PASSWORD, recordDeliveries, serverOf } from "./helpers.ts";

/** Attachments above this are sent as a pre-message plus a post-message (core PRE_MSG_ATTACHMENT_SIZE_THRESHOLD). */
const PRE_MESSAGE_THRESHOLD = 140_000;

describe("Delta Chat core, 1:1 chat on one relay", () => {
  let relay: TestRelay;
  let dc: DeltaChat;
  let alice: DcAccount;
  let bob: DcAccount;
  let aliceChat = 0;
  let bobChat = 0;
  const scratch = mkdtempSync(join(tmpdir(), "chatrelay-e2e-"));

  before(async () => {
    relay = await startTestRelay();
    dc = await DeltaChat.start();
  });
  after(async () => {
    await dc?.close();
    await relay?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("two new accounts configure through login and detect a chatmail relay", async () => {
    const server = serverOf(relay);
    [alice, bob] = await Promise.all([
      dc.login(server, randomAddress(relay.domain), PASSWORD, { name: "Alice" }),
      dc.login(server, randomAddress(relay.domain), PASSWORD, { name: "Bob" }),
    ]);
    for (const acc of [alice, bob]) {
      assert.equal(await acc.config("is_chatmail"), "1", "XCHATMAIL seen at configure time");
      assert.equal(await acc.config("configured_addr"), acc.addr);
      assert.equal(await relay.relay.parts.accounts.exists(acc.addr), true, "created on first login");
    }
  });

  test("Secure-Join with a v3 QR code, then messages both ways with the padlock", async () => {
    const joined = await secureJoin(alice, bob);
    assert.match(joined.qr, /^https:\/\/i\.delta\.chat\/#[0-9A-F]{40}&v=3&/);
    aliceChat = joined.inviterChat;
    bobChat = joined.joinerChat;
    const bobSeenByAlice = (await dc.rpc.getChatContacts(alice.id, aliceChat)).find((c) => c !== SELF)!;
    assert.equal((await dc.rpc.getContact(alice.id, bobSeenByAlice)).isVerified, true);

    const toAlice = await sendAndReceive(bob, bobChat, alice, "hello from bob");
    assert.equal(toAlice.msg.showPadlock, true);
    assert.equal(toAlice.msg.chatId, aliceChat);
    const toBob = await sendAndReceive(alice, aliceChat, bob, "hi bob");
    assert.equal(toBob.msg.showPadlock, true);
    assert.equal(toBob.msg.chatId, bobChat);
  });

  test('a message that is a single "."', async () => {
    const { msg } = await sendAndReceive(alice, aliceChat, bob, ".");
    assert.equal(msg.text, ".");
    assert.equal(msg.showPadlock, true);
  });

  test("non-ASCII text and emoji arrive unchanged", async () => {
    const text = "Grüße aus Köln — ½ € ñ 日本語 Привет 👋🏽🎉 👨‍👩‍👧 \u{1F9D1}\u200D\u{1F680}";
    const { msg } = await sendAndReceive(bob, bobChat, alice, text);
    assert.equal(msg.text, text);
    assert.equal(msg.showPadlock, true);
  });

  test("a 10 MiB file arrives byte-identical, as pre-message and post-message", async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const path = join(scratch, "big.bin");
    writeFileSync(path, data);
    const deliveries = recordDeliveries(relay, bob.addr);
    const text = "ten mebibytes";
    const arrived = bob.waitForMessage(
      (m) => m.text === text && m.downloadState === "Done" && m.file !== null,
      180_000,
    );
    await dc.rpc.sendMsg(alice.id, aliceChat, {
      text,
      html: null,
      viewtype: "File",
      file: path,
      filename: "big.bin",
      location: null,
      overrideSenderName: null,
      quotedMessageId: null,
      quotedText: null,
    });
    const msg = await arrived;
    deliveries.stop();
    assert.equal(msg.fileName, "big.bin");
    assert.equal(msg.fileBytes, data.length);
    const got = readFileSync(msg.file!);
    assert.equal(
      createHash("sha256").update(got).digest("hex"),
      createHash("sha256").update(data).digest("hex"),
    );
    assert.equal(msg.showPadlock, true);
    // two deliveries: a small pre-message and the post-message carrying the file
    assert.equal(deliveries.sizes.length, 2, `deliveries: ${deliveries.sizes.join(", ")}`);
    const [small, big] = [...deliveries.sizes].sort((a, b) => a - b);
    assert.ok(small! < PRE_MESSAGE_THRESHOLD, `pre-message of ${small} bytes`);
    assert.ok(big! > data.length, `post-message of ${big} bytes`);
  });
});
