/** Bad input, oversize lines, clients that do not read, and idle timeouts. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServerContext } from "../../src/imap/context.ts";
import type { Session } from "../../src/imap/session.ts";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn, RawClient } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap({ config: { max_message_size: 2 * 1024 * 1024 } });
});
after(() => h.close());

function sessions(): Session[] {
  return [...(h.server as unknown as { ctx: ServerContext }).ctx.sessions] as Session[];
}

/** The largest output backlog of any session right now (white-box). */
function maxBacklog(): number {
  return Math.max(0, ...sessions().map((s) => s.transport.backlog));
}

test("unknown, malformed and overlong commands get BAD; the session goes on", async () => {
  const c = await loggedIn(h.port, await h.newUser(), h.password);
  assert.deepEqual(await c.command("a", "FROBNICATE"), [
    "a BAD Error in IMAP command FROBNICATE: unknown command FROBNICATE\r\n",
  ]);
  assert.deepEqual(await c.command("b", "SELECT"), [
    "b BAD Error in IMAP command SELECT: expected space\r\n",
  ]);
  c.write("\r\n");
  assert.equal(await c.read(), "* BAD expected atom\r\n");
  c.write(Buffer.from([0x00, 0xff, 0x0d, 0x0a]));
  assert.equal(await c.read(), "* BAD expected atom\r\n");
  c.write(`c NOOP ${"x".repeat(70 * 1024)}\r\n`);
  assert.equal(await c.read(), "c BAD Line too long\r\n");
  c.write("d LOGIN {99999}\r\n");
  assert.equal(await c.read(), "d BAD Literal too large\r\n");
  assert.deepEqual(await c.command("e", "NOOP"), ["e OK NOOP completed.\r\n"]);
  c.close();
});

test("a client that does not read: output stays bounded, reading pauses", async () => {
  const user = await h.newUser();
  const body = "y".repeat(1024 * 1024);
  for (let i = 0; i < 8; i++) await h.deliver([user], message({ body }));
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  c.socket.pause();
  c.write("a UID FETCH 1:* BODY.PEEK[]\r\n");
  // Also pipeline many commands behind it.
  c.write("n NOOP\r\n".repeat(40_000));
  let peak = 0;
  let paused = false;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 25));
    peak = Math.max(peak, maxBacklog());
    paused ||= sessions().some((s) => s.transport.socket.isPaused());
  }
  assert.ok(paused, "the server stopped reading from the client");
  // 8 MiB requested; at most about one message plus the high-water mark is queued.
  assert.ok(peak < 3 * 1024 * 1024, `backlog ${peak}`);
  c.socket.resume();
  const r = await c.until("a", 30000);
  assert.equal(r.filter((l) => l.startsWith("* ")).length, 8);
  assert.equal(r[r.length - 1], "a OK Fetch completed.\r\n");
  let noops = 0;
  while (noops < 40_000) {
    const line = await c.read(30000);
    if (line === "n OK NOOP completed.\r\n") noops++;
  }
  c.close();
});

test("authenticated sessions are logged out after inactivity, IDLE ones are not", async () => {
  const t = await startImap({ limits: { autologout: 200 }, config: { imap_idle_keepalive: 1 } });
  try {
    const user = await t.newUser();
    const a = await loggedIn(t.port, user, t.password);
    const b = await loggedIn(t.port, user, t.password);
    b.write("i IDLE\r\n");
    assert.equal(await b.read(), "+ idling\r\n");
    assert.equal(await a.read(5000), "* BYE Autologout; idle for too long\r\n");
    assert.equal(await b.read(5000), "* OK Still here\r\n");
    b.write("DONE\r\n");
    assert.deepEqual(await b.until("i"), ["i OK IDLE terminated.\r\n"]);
    a.close();
    b.close();
  } finally {
    await t.close();
  }
});

test("close() says BYE to every session and waits for them", async () => {
  const t = await startImap();
  const user = await t.newUser();
  const a = await loggedIn(t.port, user, t.password);
  const b = await RawClient.connect(t.port);
  await b.read();
  a.write("i IDLE\r\n");
  assert.equal(await a.read(), "+ idling\r\n");
  assert.equal(t.server.sessionCount, 2);
  const closing = t.close();
  assert.equal(await a.read(), "* BYE Server shutting down\r\n");
  assert.equal(await b.read(), "* BYE Server shutting down\r\n");
  await closing;
  assert.equal(t.server.sessionCount, 0);
  a.close();
  b.close();
});
