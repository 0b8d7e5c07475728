/**
 * Per-address connection caps on IMAP (993), submission (465), MX (25) and
 * HTTPS (443): the (N+1)th connection from one address is refused while another
 * address still gets in, and the canary is unaffected. The MX count must be
 * given back once per admitted connection only: after a burst of 2N
 * connections is closed, exactly N can be open again.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestRelay } from "../support/relay.ts";
import { until } from "../support/until.ts";
import { healthProblems, startAbuseRelay, TIGHT, underAttack } from "./canary.ts";
import { attacker, Conn } from "./wire.ts";

const N = TIGHT.max_connections_per_ip;
const MX_N = TIGHT.max_mx_connections_per_ip;

let r: TestRelay;
before(async () => {
  r = await startAbuseRelay();
});
after(() => r.close());

type Opener = (from: string) => Promise<Conn>;

/** Opens a connection and waits for a sign of admission; undefined when refused. */
async function admitted(open: Opener, from: string): Promise<Conn | undefined> {
  try {
    return await open(from);
  } catch {
    return undefined;
  }
}

const listeners: Record<string, Opener> = {
  "IMAP 993": async (from) => {
    const c = await Conn.open({ port: r.imapsPort, tls: true, from, timeout: 5000 });
    const l = await c.line(5000);
    if (!l.startsWith("* OK")) throw new Error(l);
    return c;
  },
  "submission 465": async (from) => {
    const c = await Conn.open({ port: r.submissionsPort, tls: true, from, timeout: 5000 });
    const l = await c.reply(5000);
    if (!l.startsWith("220")) throw new Error(l);
    return c;
  },
  "HTTPS 443": async (from) => {
    const c = await Conn.open({ port: r.httpsPort, tls: true, alpn: ["http/1.1"], from, timeout: 5000 });
    // an admitted connection answers a request
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const l = await c.line(5000);
    if (!l.startsWith("HTTP/1.1 200")) throw new Error(l);
    return c;
  },
};

async function mxOpen(from: string): Promise<Conn> {
  const c = await Conn.open({ port: r.smtpPort, from, timeout: 5000 });
  const l = await c.reply(5000);
  if (!l.startsWith("220")) throw new Error(l);
  return c;
}

/** Opens `n` connections at once from `from`; returns the admitted ones. */
async function burst(open: Opener, from: string, n: number): Promise<Conn[]> {
  const all = await Promise.all(Array.from({ length: n }, () => admitted(open, from)));
  return all.filter((c): c is Conn => c !== undefined);
}

test("the (N+1)th connection from one address is refused, another address gets in", async () => {
  const problems: string[] = [];
  const report = await underAttack(r, "connection-caps", async () => {
    let i = 0;
    for (const [name, open] of Object.entries(listeners)) {
      const from = attacker(i++);
      const first = await burst(open, from, N);
      if (first.length !== N) problems.push(`${name}: ${first.length} of the first ${N} admitted`);
      const extra = await admitted(open, from);
      if (extra) problems.push(`${name}: connection ${N + 1} from one address admitted`);
      const other = await admitted(open, attacker(10));
      if (!other) problems.push(`${name}: another address was refused`);
      for (const c of [...first, extra, other]) c?.close();
    }
  });
  problems.push(...healthProblems(report));
  assert.deepEqual(problems, []);
});

test("MX: refused connections do not give back a slot; after a burst of 2N exactly N fit again", async () => {
  const from = attacker(5);
  const first = await burst(mxOpen, from, 2 * MX_N);
  for (const c of first) c.close();
  // the server notices the closes
  await until("the MX slots given back", () =>
    r.relay.parts.smtp.mxLimiter.count(from) === 0 ? true : undefined,
  );
  const again = await burst(mxOpen, from, MX_N + 5);
  for (const c of again) c.close();
  assert.deepEqual(
    { burst: first.length, again: again.length },
    { burst: MX_N, again: MX_N },
    "admitted MX connections from one address",
  );
});
