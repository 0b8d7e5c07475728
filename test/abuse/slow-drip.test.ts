/**
 * Peers that make progress too slowly to ever finish: half a command line
 * dripped one byte a second on IMAP and SMTP before login, an HTTP request on
 * 443 whose header block grows by one line a second, and /mxdeliv bodies that
 * trickle in. Each must be cut off by its limit (docs/configuration.md, "Limits
 * against hostile peers") while the canary keeps working; slow bodies, which
 * may legitimately take minutes, are bounded by the per-address cap.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestRelay } from "../support/relay.ts";
import { healthProblems, startAbuseRelay, TIGHT, underAttack } from "./canary.ts";
import { attacker, Conn, drip } from "./wire.ts";

/** How late a sweep or a timer may close a connection after its deadline. */
const SLACK_MS = 3000;
const PREAUTH_MS = TIGHT.preauth_timeout * 1000;
/** 443 header block deadline (docs: HTTPS request headers, 20 s). */
const HEADERS_MS = 20_000;

let r: TestRelay;
before(async () => {
  r = await startAbuseRelay();
});
after(() => r.close());

interface Held {
  what: string;
  c: Conn;
  boundMs: number;
}

test("dripping clients are cut off by their deadlines; slow bodies are capped per address", async () => {
  const held: Held[] = [];
  let slowBodies = 0;
  const report = await underAttack(r, "slow-drip", async () => {
    const drips: Array<{ stop(): void }> = [];
    const add = (what: string, c: Conn, boundMs: number, data: string) => {
      held.push({ what, c, boundMs });
      drips.push(drip(c, data, 1000));
    };
    for (let i = 0; i < 5; i++) {
      // IMAP before login: idle between commands preauth_timeout, logged in within 3 × that
      const imap = await Conn.open({ port: r.imapsPort, tls: true, from: attacker(0) });
      await imap.line();
      add("IMAP LOGIN drip (993)", imap, 3 * PREAUTH_MS + SLACK_MS, `a LOGIN ${"x".repeat(60)}\r\n`);
      // SMTP 587: EHLO and STARTTLS within preauth_timeout
      const sub = await Conn.open({ port: r.submissionPort, from: attacker(1) });
      await sub.reply();
      add("SMTP EHLO drip (587)", sub, PREAUTH_MS + SLACK_MS, `EHLO ${"x".repeat(60)}\r\n`);
      // SMTP 465: a first accepted MAIL FROM within 3 × preauth_timeout
      const subs = await Conn.open({ port: r.submissionsPort, tls: true, from: attacker(1) });
      await subs.reply();
      add("SMTP EHLO drip (465)", subs, 3 * PREAUTH_MS + SLACK_MS, `EHLO ${"x".repeat(60)}\r\n`);
      // MX: EHLO and STARTTLS within preauth_timeout
      const mx = await Conn.open({ port: r.smtpPort, from: attacker(2) });
      await mx.reply();
      add("SMTP EHLO drip (25)", mx, PREAUTH_MS + SLACK_MS, `EHLO ${"x".repeat(60)}\r\n`);
      // 443: one header line a second; Node's headersTimeout must apply
      const web = await Conn.open({ port: r.httpsPort, tls: true, alpn: ["http/1.1"], from: attacker(3) });
      web.write("POST /mxdeliv HTTP/1.1\r\nHost: x\r\n");
      add("HTTP header drip (443)", web, HEADERS_MS + SLACK_MS, "X-Slow: 1\r\n".repeat(60));
    }
    // slow /mxdeliv bodies from one address: no more than the per-address cap stay
    const bodies: Conn[] = [];
    for (let i = 0; i < TIGHT.max_connections_per_ip + 5; i++) {
      try {
        const c = await Conn.open({
          port: r.httpsPort,
          tls: true,
          alpn: ["http/1.1"],
          from: attacker(4),
          timeout: 3000,
        });
        c.write(
          "POST /mxdeliv HTTP/1.1\r\nHost: x\r\nX-Mail-From: a@other.test\r\n" +
            `X-Mail-To: b@${r.domain}\r\nContent-Length: 100000\r\n\r\n`,
        );
        bodies.push(c);
        drips.push(drip(c, "x".repeat(100_000), 1000));
      } catch {
        // refused at the cap
      }
    }
    const deadline = Date.now() + Math.max(...held.map((h) => h.boundMs));
    await Promise.all(held.map((h) => h.c.waitClosed(h.boundMs - h.c.heldMs)));
    slowBodies = bodies.filter((c) => !c.closed).length;
    // give the canary the same time either way, then stop dripping
    if (Date.now() < deadline - 20_000) await new Promise((res) => setTimeout(res, 1000));
    for (const d of drips) d.stop();
    for (const c of bodies) c.close();
  });
  const problems = healthProblems(report);
  const overdue = new Map<string, number>();
  for (const { what, c, boundMs } of held) {
    if (!c.closed || c.heldMs > boundMs) overdue.set(what, (overdue.get(what) ?? 0) + 1);
    c.close();
  }
  for (const [what, n] of overdue) problems.push(`${n} × ${what} held past its deadline`);
  if (slowBodies > TIGHT.max_connections_per_ip)
    problems.push(
      `${slowBodies} slow /mxdeliv bodies from one address held (cap ${TIGHT.max_connections_per_ip})`,
    );
  console.log(`abuse[slow-drip]: slow /mxdeliv bodies held from one address: ${slowBodies}`);
  assert.deepEqual(problems, []);
});
