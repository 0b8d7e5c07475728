/**
 * Unencrypted mail is refused at submission with the text that the Delta Chat
 * core turns into its "requires end-to-end encryption" notice: once over raw
 * SMTP, once with the real core driven into sending plaintext (a classic
 * email contact with force_encryption switched off).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DeltaChat, randomAddress } from "../support/deltachat.ts";
import { fixture } from "../support/mail.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { submit } from "../support/smtp.ts";
import { PASSWORD, serverOf } from "./helpers.ts";

describe("unencrypted mail is refused", () => {
  let relay: TestRelay;
  let dc: DeltaChat | undefined;

  before(async () => {
    relay = await startTestRelay();
  });
  after(async () => {
    await dc?.close();
    await relay?.close();
  });

  test("raw SMTP: 523 with 'Invalid Unencrypted Mail'", async () => {
    const from = randomAddress(relay.domain);
    const to = randomAddress(relay.domain);
    const sent = await submit(
      relay.submissions,
      from,
      PASSWORD,
      { from, to: [to] },
      fixture("plain", from, to),
    );
    assert.equal(sent.ok, false);
    assert.equal(sent.code, 523);
    // chatmail core src/smtp.rs matches this phrase case-insensitively
    assert.match(sent.response, /invalid unencrypted mail/i);
  });

  test("the core shows its 'requires end-to-end encryption' notice", async () => {
    dc = await DeltaChat.start();
    const alice = await dc.login(serverOf(relay), randomAddress(relay.domain), PASSWORD);
    await dc.rpc.setConfig(alice.id, "force_encryption", "0");
    const contact = await dc.rpc.createContact(alice.id, randomAddress(relay.domain), null);
    const chat = await dc.rpc.createChatByContactId(alice.id, contact);
    const failed = alice.waitFor("MsgFailed");
    const msgId = await alice.send(chat, "plaintext hello");
    assert.equal((await failed).msgId, msgId);
    const msg = await dc.rpc.getMessage(alice.id, msgId);
    assert.match(msg.error ?? "", /Invalid Unencrypted Mail/);
    assert.equal(msg.showPadlock, false);
    const ids = await dc.rpc.getMessageIds(alice.id, chat, true, false);
    const infos = await Promise.all(ids.map((id) => dc!.rpc.getMessage(alice.id, id)));
    const notice = infos.find((m) => m.isInfo && m.text.includes("requires end-to-end encryption"));
    assert.ok(notice, `info messages: ${infos.map((m) => m.text).join(" | ")}`);
    assert.match(notice.text, new RegExp(relay.domain.replace(/\./g, "\\.")));
  });
});
