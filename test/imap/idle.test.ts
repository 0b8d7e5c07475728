/**
 * IDLE (RFC 2177) and cross-session consistency (RFC 3501 §7.4.1): instant
 * EXISTS on delivery, other sessions' flag changes and expunges, keep-alives,
 * sequence numbers that stay right, and no lost notification under load.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn, type RawClient } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap({ config: { imap_idle_keepalive: 1 } });
});
after(() => h.close());

async function idle(c: RawClient, tag: string): Promise<void> {
  c.write(`${tag} IDLE\r\n`);
  assert.equal(await c.read(), "+ idling\r\n");
}

async function done(c: RawClient, tag: string): Promise<string[]> {
  c.write("DONE\r\n");
  return c.until(tag);
}

/** A new user with three messages, and two sessions that selected its INBOX, A first. */
async function twoSessions(): Promise<{ user: string; a: RawClient; b: RawClient }> {
  const user = await h.newUser();
  for (let i = 0; i < 3; i++) await h.deliver([user], message());
  const a = await loggedIn(h.port, user, h.password);
  const b = await loggedIn(h.port, user, h.password);
  await a.command("s", "SELECT INBOX");
  await b.command("s", "SELECT INBOX");
  return { user, a, b };
}

test("two sessions: expunge, flags and delivery keep sequence numbers right", async () => {
  const { user, a, b } = await twoSessions();
  await idle(a, "i1");
  // A selected first, so the messages are \Recent for A, not for B.
  assert.deepEqual(await b.command("b1", "UID STORE 1 +FLAGS (\\Deleted)"), [
    "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\n",
    "b1 OK Store completed.\r\n",
  ]);
  assert.equal(await a.read(), "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\n");
  assert.deepEqual(await b.command("b2", "EXPUNGE"), ["* 1 EXPUNGE\r\n", "b2 OK Expunge completed.\r\n"]);
  assert.equal(await a.read(), "* 1 EXPUNGE\r\n");
  await h.deliver([user], message());
  assert.equal(await a.read(), "* 3 EXISTS\r\n");
  assert.equal(await a.read(), "* 3 RECENT\r\n");
  assert.deepEqual(await done(a, "i1"), ["i1 OK IDLE terminated.\r\n"]);
  assert.deepEqual(await a.command("f", "FETCH 1:* (UID)"), [
    "* 1 FETCH (UID 2)\r\n",
    "* 2 FETCH (UID 3)\r\n",
    "* 3 FETCH (UID 4)\r\n",
    "f OK Fetch completed.\r\n",
  ]);
  // B learns about the delivery at its next command.
  assert.deepEqual(await b.command("b3", "NOOP"), ["* 3 EXISTS\r\n", "b3 OK NOOP completed.\r\n"]);
  a.close();
  b.close();
});

test("no EXPUNGE during FETCH, STORE or SEARCH by sequence number; NOOP reports it", async () => {
  const { a, b } = await twoSessions();
  await b.command("b1", "UID STORE 1 +FLAGS.SILENT (\\Deleted)");
  await b.command("b2", "UID EXPUNGE 1");
  // A still numbers the expunged message 1 until it may be told; its data is gone.
  assert.deepEqual(await a.command("a1", "FETCH 1:* (UID)"), [
    "* 2 FETCH (UID 2)\r\n",
    "* 3 FETCH (UID 3)\r\n",
    "a1 OK Fetch completed.\r\n",
  ]);
  assert.deepEqual(await a.command("a2", "SEARCH ALL"), ["* SEARCH 2 3\r\n", "a2 OK Search completed.\r\n"]);
  assert.deepEqual(await a.command("a3", "STORE 3 +FLAGS (\\Seen)"), [
    "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\n",
    "a3 OK Store completed.\r\n",
  ]);
  assert.deepEqual(await a.command("a4", "NOOP"), ["* 1 EXPUNGE\r\n", "a4 OK NOOP completed.\r\n"]);
  assert.deepEqual(await a.command("a5", "FETCH 1:* (UID)"), [
    "* 1 FETCH (UID 2)\r\n",
    "* 2 FETCH (UID 3)\r\n",
    "a5 OK Fetch completed.\r\n",
  ]);
  // UID commands may report it at once.
  await b.command("b3", "UID STORE 2 +FLAGS.SILENT (\\Deleted)");
  await b.command("b4", "EXPUNGE");
  assert.deepEqual(await a.command("a6", "UID FETCH 3 (FLAGS)"), [
    "* 2 FETCH (UID 3 FLAGS (\\Seen \\Recent))\r\n",
    "* 1 EXPUNGE\r\n",
    "a6 OK Fetch completed.\r\n",
  ]);
  a.close();
  b.close();
});

test("IDLE: keep-alive, no mailbox selected, and a bad continuation", async () => {
  const user = await h.newUser();
  const c = await loggedIn(h.port, user, h.password);
  await idle(c, "i1");
  assert.equal(await c.read(5000), "* OK Still here\r\n");
  assert.deepEqual(await done(c, "i1"), ["i1 OK IDLE terminated.\r\n"]);
  await c.command("s", "SELECT INBOX");
  await idle(c, "i2");
  c.write("NOPE\r\n");
  assert.deepEqual(await c.until("i2"), ["i2 BAD Expected DONE.\r\n"]);
  // A delivery between commands is reported as soon as IDLE starts.
  await h.deliver([user], message());
  await idle(c, "i3");
  assert.equal(await c.read(), "* 1 EXISTS\r\n");
  assert.equal(await c.read(), "* 1 RECENT\r\n");
  assert.deepEqual(await done(c, "i3"), ["i3 OK IDLE terminated.\r\n"]);
  c.close();
});

test("no lost notification: 200 concurrent deliveries, sessions entering and leaving IDLE", async () => {
  const users: string[] = [];
  for (let i = 0; i < 4; i++) users.push(await h.newUser());
  // Plan the deliveries: each goes to one to three users.
  const plan: string[][] = [];
  let seed = 42;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 200; i++) {
    const to = new Set<string>();
    const k = 1 + rand(3);
    while (to.size < k) to.add(users[rand(users.length)]!);
    plan.push([...to]);
  }
  const expected = new Map(users.map((u) => [u, plan.filter((p) => p.includes(u)).length]));

  interface Device {
    user: string;
    client: RawClient;
    seen: Set<number>;
  }
  const devices: Device[] = [];
  for (const user of users) {
    for (let d = 0; d < 2; d++) {
      const client = await loggedIn(h.port, user, h.password);
      await client.command("s", "SELECT INBOX");
      devices.push({ user, client, seen: new Set() });
    }
  }

  // Nothing is expunged here, so the largest EXISTS a device was told equals the
  // number of messages it may fetch. A lost notification is an IDLE that is never
  // woken while messages wait: the deadline below is only there to turn that hang
  // into a failure, it does not judge speed.
  const MISSED_AFTER_MS = 30_000;
  async function run(dev: Device): Promise<void> {
    const want = expected.get(dev.user)!;
    let told = 0;
    const note = (line: string) => {
      const m = /^\* (\d+) EXISTS\r\n$/.exec(line);
      if (m) told = Math.max(told, Number(m[1]));
      return m !== null;
    };
    let next = 1;
    let n = 0;
    // Delta Chat's loop: IDLE; on EXISTS → DONE; UID FETCH next:*; IDLE again.
    while (dev.seen.size < want) {
      if (told <= dev.seen.size) {
        const tag = `i${n++}`;
        dev.client.write(`${tag} IDLE\r\n`);
        const until = Date.now() + MISSED_AFTER_MS;
        for (;;) {
          let line: string;
          try {
            line = await dev.client.read(Math.max(1, until - Date.now()));
          } catch {
            throw new Error(`${dev.user}: missed an EXISTS, IDLE silent at ${dev.seen.size}/${want}`);
          }
          if (note(line)) break;
        }
        dev.client.write("DONE\r\n");
        for (const r of await dev.client.until(tag)) note(r);
      }
      const before = dev.seen.size;
      for (const r of await dev.client.command(`f${n++}`, `UID FETCH ${next}:* (UID)`)) {
        note(r);
        const m = /^\* \d+ FETCH \(UID (\d+)\)/.exec(r);
        if (m) dev.seen.add(Number(m[1]));
      }
      if (dev.seen.size === before) throw new Error(`${dev.user}: told ${told}, fetched ${before}`);
      next = Math.max(next, ...dev.seen) + 1;
    }
  }
  const runners = devices.map(run);
  await Promise.all(plan.map((to, i) => h.deliver(to, message({ id: `load${i}` }))));
  await Promise.all(runners);
  for (const dev of devices) {
    assert.equal(dev.seen.size, expected.get(dev.user));
    dev.client.close();
  }
});
