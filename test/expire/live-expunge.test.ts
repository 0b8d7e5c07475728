/**
 * Deletions reach live IMAP sessions: the quota trim at delivery time into a
 * full mailbox and the daily expiry both show up in IDLE as `* n EXPUNGE`
 * (RFC 2177, RFC 3501 §7.4.1), and the daily timer fires at 00:02 UTC and
 * re-arms itself. The timer runs on an injected clock: no real day passes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { LocalDelivery } from "../../src/delivery/local.ts";
import { type ExpiryClock, ExpiryTimer } from "../../src/expire/expire.ts";
import { silentLogger } from "../../src/log.ts";
import { type ImapHarness, message, startImap } from "../imap/support/harness.ts";
import { loggedIn, type RawClient } from "../imap/support/raw-client.ts";

const DAY = 86_400_000;
let h: ImapHarness;

before(async () => {
  h = await startImap({ config: { max_mailbox_size: 10_000, delete_mails_after: 20 } });
});
after(() => h.close());

async function seed(user: string, ageDays: number[], size: number, now: number): Promise<void> {
  const inbox = (await h.store.getMailbox(user, "INBOX"))!;
  for (const age of ageDays)
    await h.store.append(inbox.id, {
      data: Buffer.from(message({ body: "x".repeat(size) })),
      internalDate: now - age * DAY,
    });
}

async function idling(user: string): Promise<RawClient> {
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  c.write("i IDLE\r\n");
  assert.equal(await c.read(), "+ idling\r\n");
  return c;
}

test("a delivery into a full mailbox trims the oldest messages, and an IDLE session sees EXPUNGE", async () => {
  const now = Date.now();
  const user = await h.newUser();
  // three 3 kB messages, two days old: 9 kB of 10 kB used
  await seed(user, [4, 3, 2], 3000, now);
  const c = await idling(user);
  const local = new LocalDelivery(h.config, h.store, h.bus, silentLogger, () => now);
  const res = await local.deliver(
    [user],
    Buffer.from(message({ body: "n".repeat(3000) })),
    "someone@example.org",
  );
  assert.deepEqual(res.delivered, [user]);
  // 12 kB would pass 10 kB: trimmed to 70 % minus the new message, oldest first (docs/reference-relay.md §2.7)
  const told = [await c.read(), await c.read(), await c.read()];
  // two expunges (either order of sequence numbers is right), then the new message
  for (const line of told.slice(0, 2)) assert.match(line, /^\* [12] EXPUNGE\r\n$/);
  assert.equal(told[2], "* 2 EXISTS\r\n");
  c.write("DONE\r\n");
  await c.until("i");
  assert.deepEqual(await c.command("f", "UID FETCH 1:* (UID)"), [
    "* 1 FETCH (UID 3)\r\n",
    "* 2 FETCH (UID 4)\r\n",
    "f OK Fetch completed.\r\n",
  ]);
  c.close();
});

class FakeClock implements ExpiryClock {
  armed: Array<{ run: () => void; ms: number; cleared: boolean; unref(): void }> = [];
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  setTimeout(run: () => void, ms: number) {
    const entry = { run, ms, cleared: false, unref() {} };
    this.armed.push(entry);
    return entry;
  }
  clearTimeout(handle: unknown): void {
    (handle as { cleared: boolean }).cleared = true;
  }
}

test("the daily expiry timer fires at 00:02 UTC, re-arms, and its deletions reach an IDLE session", async () => {
  const real = Date.now();
  const user = await h.newUser();
  await seed(user, [30, 0.1], 100, real);
  const c = await idling(user);
  const clock = new FakeClock(real);
  const timer = new ExpiryTimer({ config: h.config, store: h.store, bus: h.bus, log: silentLogger }, clock);
  timer.start();
  assert.equal(clock.armed.length, 1);
  const d = new Date(real);
  const due = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1, 0, 2);
  assert.equal(clock.armed[0]!.ms, due - real, "armed for the next 00:02 UTC");
  assert.ok(clock.armed[0]!.ms > 0 && clock.armed[0]!.ms <= DAY);

  clock.t = due;
  clock.armed[0]!.run();
  // the 30-day-old message is past delete_mails_after (20 days)
  assert.equal(await c.read(), "* 1 EXPUNGE\r\n");
  assert.equal(clock.armed.length, 2, "the timer re-arms after firing");
  assert.equal(clock.armed[1]!.ms, DAY, "next run: the following 00:02 UTC");
  timer.stop();
  assert.equal(clock.armed[1]!.cleared, true);
  c.write("DONE\r\n");
  await c.until("i");
  assert.deepEqual(await c.command("f", "UID FETCH 1:* (UID)"), [
    "* 1 FETCH (UID 2)\r\n",
    "f OK Fetch completed.\r\n",
  ]);
  c.close();
});
