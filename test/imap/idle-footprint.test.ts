/**
 * What an idle session keeps (issue 13: memory per idle session). Structural,
 * not sizes: the socket's event listeners are shared by all sessions rather
 * than closures made for each one, the transport and the framer hold no
 * functions of their own, input is not kept once consumed, and idle sessions
 * start no timers of their own (one server-wide sweep drives their deadlines).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ServerContext } from "../../src/imap/context.ts";
import type { Session } from "../../src/imap/session.ts";
import { type ImapHarness, startImap } from "./support/harness.ts";
import { loggedIn, type RawClient } from "./support/raw-client.ts";

let h: ImapHarness;
const clients: RawClient[] = [];

before(async () => {
  h = await startImap();
});
after(async () => {
  for (const c of clients) c.close();
  await h.close();
});

/** A logged-in client in IDLE on INBOX; with `large`, a 200 KB APPEND goes first. */
async function idleClient(large = false): Promise<RawClient> {
  const c = await loggedIn(h.port, await h.newUser(), h.password);
  clients.push(c);
  if (large) {
    const msg = Buffer.concat([Buffer.from("Subject: large\r\n\r\n"), Buffer.alloc(200_000, "x")]);
    const append = Buffer.concat([
      Buffer.from(`APPEND INBOX {${msg.length}+}\r\n`),
      msg,
      Buffer.from("\r\n"),
    ]);
    assert.match((await c.command("A1", append)).at(-1)!, /^A1 OK/);
  }
  assert.match((await c.command("S1", "SELECT INBOX")).at(-1)!, /^S1 OK/);
  c.write("I1 IDLE\r\n");
  assert.equal(await c.read(), "+ idling\r\n");
  return c;
}

function sessions(): Session[] {
  return [...(h.server as unknown as { ctx: ServerContext }).ctx.sessions] as Session[];
}

/** Own properties that are functions, one level into plain objects (an options bag). */
function ownFunctions(o: object): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "function") out.push(k);
    else if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
      for (const [k2, v2] of Object.entries(v)) if (typeof v2 === "function") out.push(`${k}.${k2}`);
  }
  return out;
}

/** Timers created through the global setTimeout/setInterval while `fn` runs that are still pending after it. */
async function pendingTimersAfter(fn: () => Promise<void>): Promise<number> {
  const made: NodeJS.Timeout[] = [];
  const { setTimeout: st, setInterval: si } = globalThis;
  globalThis.setTimeout = ((...a: Parameters<typeof st>) => {
    const t = st(...a);
    made.push(t);
    return t;
  }) as typeof st;
  globalThis.setInterval = ((...a: Parameters<typeof si>) => {
    const t = si(...a);
    made.push(t);
    return t;
  }) as typeof si;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = st;
    globalThis.setInterval = si;
  }
  return made.filter((t) => !(t as unknown as { _destroyed: boolean })._destroyed).length;
}

test("idle sessions share their socket listeners, hold no closures in transport or framer, and keep no input", async () => {
  await idleClient(true);
  await idleClient();
  const [a, b] = sessions();
  assert.ok(a && b && a.idling && b.idling);
  for (const event of ["data", "close", "drain"]) {
    const la = a.transport.socket.listeners(event);
    const lb = b.transport.socket.listeners(event);
    assert.ok(la.length > 0, event);
    assert.deepEqual(
      la.map((f, i) => f === lb[i]),
      la.map(() => true),
      `"${event}" listeners are the same functions in both sessions`,
    );
  }
  for (const s of [a, b]) {
    assert.deepEqual(ownFunctions(s.transport), []);
    const framer = (s as unknown as { framer: object }).framer;
    assert.deepEqual(ownFunctions(framer), []);
    assert.equal((framer as { buffered: number }).buffered, 0);
    assert.deepEqual((framer as unknown as { queue: Buffer[] }).queue, []);
  }
});

test("more idle sessions start no more timers", async () => {
  const one = await pendingTimersAfter(async () => {
    await idleClient();
  });
  const four = await pendingTimersAfter(async () => {
    for (let i = 0; i < 4; i++) await idleClient();
  });
  assert.equal(sessions().length, 7);
  assert.equal(four, one, "timers left pending by 4 idle sessions vs. by 1");
});
