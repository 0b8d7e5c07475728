import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PUSH_QUEUE } from "../../src/push/notifier.ts";
import { Lines } from "../http/lines.ts";
import { fixture } from "../support/mail.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { startNotifyProxy } from "./proxy.ts";

/** Logs in over IMAPS and registers a device token as Delta Chat does (chatmail/core src/imap.rs). */
async function registerToken(r: TestRelay, address: string, token: string): Promise<void> {
  const c = await Lines.connect(r.imapsPort, {});
  try {
    await c.line();
    c.send(`a1 LOGIN ${address} ${r.password}`);
    assert.match((await c.until(/^a1 /)).at(-1) ?? "", /^a1 OK/);
    c.send(`a2 SETMETADATA "INBOX" (/private/devicetoken {${Buffer.byteLength(token)}+}`);
    c.socket.write(`${token})\r\n`);
    assert.match((await c.until(/^a2 /)).at(-1) ?? "", /^a2 OK/);
  } finally {
    c.close();
  }
}

/** Through the relay's delivery pipeline, as an authenticated submission does. */
async function send(r: TestRelay, from: string, to: string): Promise<void> {
  const reply = await r.relay.parts.delivery.accept(
    { mailFrom: from, recipients: [to] },
    fixture("encrypted", from, to),
    { kind: "submission", user: from },
  );
  assert.equal(reply.code, 250, reply.text);
}

async function login(r: TestRelay, address: string): Promise<void> {
  const c = await Lines.connect(r.imapsPort, {});
  try {
    await c.line();
    c.send(`a1 LOGIN ${address} ${r.password}`);
    await c.until(/^a1 /);
  } finally {
    c.close();
  }
}

test("a message from another user notifies the recipient's device; own copies do not", async () => {
  const proxy = await startNotifyProxy();
  const r = await startTestRelay({ push_url: proxy.url });
  try {
    const alice = r.newAddress();
    const bob = r.newAddress();
    await login(r, alice);
    const token = `openpgp:${Buffer.from("token of bob's phone").toString("base64")}`;
    await registerToken(r, bob, token);

    await send(r, alice, bob);
    await proxy.received(1);
    assert.equal(proxy.requests[0]?.body, token);

    // bob writes to himself (a bcc-self copy arrives in his INBOX): no notification
    await send(r, bob, bob);
    await r.relay.parts.push.settle();
    assert.equal(proxy.requests.length, 1);
  } finally {
    await r.close();
    await proxy.close();
  }
});

test("notifications pending at shutdown are sent after a restart", async () => {
  const proxy = await startNotifyProxy();
  const dataDir = mkdtempSync(join(tmpdir(), "chatrelay-push-restart-"));
  try {
    const first = await startTestRelay({ push_url: proxy.url, data_dir: dataDir });
    const alice = first.newAddress();
    const bob = first.newAddress();
    try {
      await login(first, alice);
      await registerToken(first, bob, "tok-restart");
      proxy.answer.set("tok-restart", 500);
      await send(first, alice, bob);
      await proxy.received(1);
      await first.relay.parts.push.settle();
      const [job] = await first.relay.parts.store.listJobs(PUSH_QUEUE);
      assert.equal(job?.lastError, "HTTP 500");
      // as if the relay were down until the retry is due
      await first.relay.parts.push.stop();
      await first.relay.parts.store.rescheduleJob(job.id, Date.now(), job.lastError);
    } finally {
      await first.close();
    }
    proxy.answer.set("tok-restart", 200);
    const second = await startTestRelay({ push_url: proxy.url, data_dir: dataDir });
    try {
      await proxy.received(2);
      assert.equal(proxy.requests[1]?.body, "tok-restart");
      await second.relay.parts.push.settle();
      assert.deepEqual(await second.relay.parts.store.listJobs(PUSH_QUEUE), []);
    } finally {
      await second.close();
    }
  } finally {
    await proxy.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
