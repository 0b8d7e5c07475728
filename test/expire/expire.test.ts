import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { LocalEventBus, type MailboxEvent } from "../../src/events/bus.ts";
import { expire, selectExpired } from "../../src/expire/expire.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { MessageRecord, Store } from "../../src/store/types.ts";

const DAY = 86_400_000;
const NOW = 1_900_000_000_000;
let dir: string;
let store: Store;
let config: Config;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "chatrelay-expire-"));
  config = testConfig({ data_dir: dir, max_mailbox_size: 1_000_000 });
  store = await openStore(dir);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function rec(uid: number, ageDays: number, size: number, flags: string[] = []): MessageRecord {
  return { mailboxId: 1, uid, flags, internalDate: NOW - ageDays * DAY, size, blobId: String(uid) };
}

test("selectExpired: age, read large messages, quota trim sparing the young", () => {
  const c = { ...config, delete_mails_after: 20, delete_large_after: 7 };
  const picked = (msgs: MessageRecord[]) =>
    selectExpired(msgs, c, NOW)
      .map((m) => m.uid)
      .sort();
  assert.deepEqual(picked([rec(1, 21, 10), rec(2, 19, 10)]), [1]);
  assert.deepEqual(
    picked([rec(1, 8, 300_000, ["\\Seen"]), rec(2, 8, 300_000), rec(3, 6, 300_000, ["\\Seen"])]),
    [1],
  );
  // 4 x 240 kB = 960 kB > 75 %: oldest go until <= 70 % (700 kB); the 1-hour-old one stays
  assert.deepEqual(
    picked([rec(1, 5, 240_000), rec(2, 4, 240_000), rec(3, 3, 240_000), rec(4, 0.04, 240_000)]),
    [1, 2],
  );
  assert.deepEqual(
    picked([rec(1, 0.5, 500_000), rec(2, 0.2, 400_000)]),
    [],
    "younger than a day: never trimmed",
  );
});

test("expire: removes old messages (with EXPUNGE events) and inactive accounts", async () => {
  const nowS = NOW / 1000;
  await store.createAccount("activeacc@_chatrelay.test", "x", nowS - 100 * 86400);
  await store.setLastLoginDay("activeacc@_chatrelay.test", nowS - 2 * 86400);
  await store.createAccount("sleepyacc@_chatrelay.test", "x", nowS - 100 * 86400);
  await store.setLastLoginDay("sleepyacc@_chatrelay.test", nowS - 91 * 86400);
  const inbox = (await store.getMailbox("activeacc@_chatrelay.test", "INBOX"))!;
  const old = await store.append(inbox.id, {
    data: Buffer.from("Subject: old\r\n\r\nx"),
    internalDate: NOW - 21 * DAY,
  });
  const fresh = await store.append(inbox.id, {
    data: Buffer.from("Subject: new\r\n\r\nx"),
    internalDate: NOW - DAY,
  });
  const bus = new LocalEventBus();
  const events: MailboxEvent[] = [];
  bus.subscribeAll((e) => events.push(e));

  const dry = await expire({ config, store, bus, log: silentLogger, now: NOW, dryRun: true });
  assert.equal(dry.accountsRemoved, 1);
  assert.ok(await store.getAccount("sleepyacc@_chatrelay.test"), "dry run changes nothing");

  const report = await expire({ config, store, bus, log: silentLogger, now: NOW });
  assert.equal(report.accountsRemoved, 1);
  assert.equal(await store.getAccount("sleepyacc@_chatrelay.test"), undefined);
  const left = (await store.listMessages(inbox.id)).map((m) => m.uid);
  assert.deepEqual(left, [fresh.uid]);
  assert.ok(events.some((e) => e.kind === "expunge" && e.uids.includes(old.uid)));
});
