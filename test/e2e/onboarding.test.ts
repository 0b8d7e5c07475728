/**
 * One-click onboarding on the embedded default (`npm start`): the real Delta
 * Chat core takes the dclogin: link from `POST /new` and from the website's
 * button, configures itself from nothing else and reaches IDLE. The relay is
 * named `_chatrelay.localhost` like the embedded config, a name the machine's
 * resolver need not answer (RFC 6761 §6.3), so the links must carry the
 * listen address, the ports and "accept invalid certificates".
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { type DcAccount, DeltaChat, SELF } from "../support/deltachat.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { relayLog } from "./helpers.ts";

function https(port: number, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      // the relay's self-signed certificate: this test trusts it as the dclogin link tells the core to
      { host: "127.0.0.1", port, method, path, rejectUnauthorized: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("one-click onboarding on a localhost-named relay", () => {
  let relay: TestRelay;
  let dc: DeltaChat;

  before(async () => {
    relay = await startTestRelay({ mail_domain: "_chatrelay.localhost" }, { log: relayLog("embedded") });
    dc = await DeltaChat.start();
  });
  after(async () => {
    await dc?.close();
    await relay?.close();
  });

  async function onboard(link: string): Promise<DcAccount> {
    const acc = await dc.addAccount();
    assert.equal((await dc.rpc.checkQr(acc.id, link)).kind, "login");
    const idle = acc.waitFor("ImapInboxIdle");
    idle.catch(() => {}); // awaited below; a failed configure must not leave it unhandled
    await dc.rpc.addTransportFromQr(acc.id, link);
    acc.addr = (await acc.config("configured_addr")) ?? "";
    await dc.rpc.startIo(acc.id);
    await idle;
    return acc;
  }

  test("the core configures itself from /new's dclogin: link and from the page's button", async () => {
    const creds = JSON.parse(await https(relay.httpsPort, "POST", "/new")) as {
      email: string;
      dclogin_url: string;
    };
    const alice = await onboard(creds.dclogin_url);
    assert.equal(alice.addr, creds.email);

    const page = await https(relay.httpsPort, "GET", "/");
    const button = /<a class="button" href="([^"]+)">/.exec(page)?.[1]?.replace(/&amp;/g, "&");
    assert.ok(button?.startsWith("dclogin:"), "the page's button is a dclogin: link");
    const bob = await onboard(button!);
    assert.match(bob.addr, /@_chatrelay\.localhost$/);
    assert.equal(await relay.relay.parts.accounts.exists(alice.addr), true);
    assert.equal(await relay.relay.parts.accounts.exists(bob.addr), true);

    // and it sends: a note to self goes through submission and comes back over IMAP
    const selfChat = await dc.rpc.createChatByContactId(alice.id, SELF);
    const sent = alice.waitFor("MsgDelivered");
    await alice.send(selfChat, "hello from one click");
    await sent;
  });
});
