/**
 * Bounces never loop (RFC 5321 §6.1, RFC 3464 §2): a failed message whose
 * envelope sender is null or MAILER-DAEMON gets no bounce, and a bounce that
 * cannot be delivered itself is dropped after its own attempt rather than
 * bounced again. The real pipeline, outbound queue and store; the remote side
 * is an SMTP receiver on loopback that refuses every recipient for good.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { testConfig } from "../../src/config/load.ts";
import { LocalDelivery } from "../../src/delivery/local.ts";
import { OUTBOUND_QUEUE, OutboundQueue } from "../../src/delivery/outbound/queue.ts";
import { Delivery } from "../../src/delivery/pipeline.ts";
import type { Envelope } from "../../src/delivery/types.ts";
import { LocalEventBus } from "../../src/events/bus.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/types.ts";
import { tableResolver } from "./outbound-harness.ts";
import { type ScriptedSmtp, scriptedSmtp } from "./scripted-smtp.ts";

const dns = tableResolver({
  "_dest.test": { MX: [{ exchange: "_mx.dest.test", priority: 10 }] },
  "_mx.dest.test": { A: ["127.0.0.1"] },
});
const MESSAGE = Buffer.from(
  "From: someone@_origin.test\r\nTo: bob@_dest.test\r\nMessage-ID: <m1@_origin.test>\r\n\r\nhello\r\n",
);

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup() {
  const smtp: ScriptedSmtp = await scriptedSmtp(() => "550 5.1.1 No such user here");
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-bounce-"));
  const config = testConfig({
    data_dir: dir,
    mail_domain: "_origin.test",
    outbound_allow_private: true,
    outbound_https_port: 0,
    outbound_smtp_port: smtp.port,
  });
  const store: Store = await openStore(dir);
  const local = new LocalDelivery(config, store, new LocalEventBus(), silentLogger);
  const queue: OutboundQueue = new OutboundQueue({
    config,
    store,
    dns,
    log: silentLogger,
    timeoutMs: 3000,
    onFailed: (mailFrom, message, failed) => delivery.bounce(mailFrom, message, failed),
  });
  /** What the pipeline queues: bounces. */
  const bounces: Envelope[] = [];
  const delivery: Delivery = new Delivery({
    config,
    log: silentLogger,
    local,
    signer: null,
    verifier: null,
    outbound: {
      enqueue: (envelope, message) => {
        bounces.push(envelope);
        return queue.enqueue(envelope, message);
      },
    },
  });
  queue.start();
  cleanup.push(async () => {
    await queue.stop();
    await store.close();
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  /** Until the queue is empty (a bounce queued by a failure is a new job). */
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      queue.poll();
      // a queue that keeps feeding itself never goes idle: bounded
      const idle = await Promise.race([
        queue.idle().then(() => true),
        new Promise<false>((r) => setTimeout(r, 20_000, false).unref()),
      ]);
      if (!idle) assert.fail("the outbound queue keeps running (a bounce loop?)");
      if ((await store.listJobs(OUTBOUND_QUEUE)).length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail("the outbound queue never emptied");
  };
  return { smtp, queue, bounces, settle };
}

for (const sender of ["", "MAILER-DAEMON@_dest.test", "mailer-daemon@_origin.test"]) {
  test(`a failed message from <${sender}> gets no bounce`, { timeout: 60_000 }, async () => {
    const { smtp, queue, bounces, settle } = await setup();
    await queue.enqueue({ mailFrom: sender, recipients: ["bob@_dest.test"] }, MESSAGE);
    await settle();
    assert.deepEqual(smtp.rcpts, ["bob@_dest.test"], "one attempt, no bounce sent");
    assert.deepEqual(bounces, []);
  });
}

test("a bounce that cannot be delivered is dropped, not bounced again", { timeout: 60_000 }, async () => {
  const { smtp, queue, bounces, settle } = await setup();
  await queue.enqueue({ mailFrom: "alice@_dest.test", recipients: ["bob@_dest.test"] }, MESSAGE);
  await settle();
  // the message, then its bounce (null sender, RFC 5321 §4.5.5) to alice, refused too
  assert.deepEqual(smtp.rcpts, ["bob@_dest.test", "alice@_dest.test"]);
  assert.deepEqual(bounces, [{ mailFrom: "", recipients: ["alice@_dest.test"] }]);
});
