/**
 * Connections that never finish TLS: STARTTLS accepted and then silence (IMAP
 * 143, submission 587, MX 25), and handshakes that never complete on the
 * implicit-TLS ports (993, 465) and on 443. Every one must be closed by
 * tls_handshake_timeout (or at the latest preauth_timeout) while the canary
 * keeps working; the IMAP slots they took must be free again.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestRelay } from "../support/relay.ts";
import { healthProblems, startAbuseRelay, TIGHT, underAttack } from "./canary.ts";
import { attacker, Conn, stalledHandshake } from "./wire.ts";

const PREAUTH_S = TIGHT.preauth_timeout;
/** Timers may run a sweep late; the bound is the later limit plus this. */
const SLACK_MS = 3000;

let r: TestRelay;

before(async () => {
  r = await startAbuseRelay({
    // 40 silent STARTTLS connections would fill this on the old code
    max_imap_connections: 40,
  });
});
after(() => r.close());

/** Plaintext greeting, STARTTLS accepted, then nothing. */
async function starttlsThenSilence(port: number, from: string, imap: boolean): Promise<Conn> {
  const c = await Conn.open({ port, from });
  if (imap) {
    await c.line();
    c.write("s STARTTLS\r\n");
    const ok = await c.until("s ");
    assert.match(ok, /^s OK/);
  } else {
    await c.reply();
    await c.smtp("EHLO attacker.test");
    assert.match(await c.smtp("STARTTLS"), /^220/);
  }
  return c;
}

/** Opens `n` connections with `open`, tolerating refusals (a refused one counts as closed). */
async function many(n: number, open: () => Promise<Conn>): Promise<Conn[]> {
  const out: Conn[] = [];
  for (let i = 0; i < n; i++) {
    try {
      out.push(await open());
    } catch {
      // refused or closed before STARTTLS: the server did not hold it
    }
  }
  return out;
}

test("stalled TLS handshakes are closed by the handshake timeout; the canary is unaffected", async () => {
  const held: Array<{ what: string; c: Conn }> = [];
  const report = await underAttack(r, "tls-handshake-stall", async () => {
    const groups: Array<[string, Promise<Conn[]>]> = [
      ["IMAP STARTTLS silence", many(40, () => starttlsThenSilence(r.imapPort, attacker(0), true))],
      [
        "submission STARTTLS silence",
        many(10, () => starttlsThenSilence(r.submissionPort, attacker(1), false)),
      ],
      ["MX STARTTLS silence", many(10, () => starttlsThenSilence(r.smtpPort, attacker(2), false))],
      ["993 no handshake", many(10, () => stalledHandshake(r.imapsPort, attacker(3)))],
      ["465 partial ClientHello", many(10, () => stalledHandshake(r.submissionsPort, attacker(3), true))],
      ["443 no handshake", many(10, () => stalledHandshake(r.httpsPort, attacker(4)))],
      ["443 partial ClientHello", many(10, () => stalledHandshake(r.httpsPort, attacker(4), true))],
    ];
    for (const [what, p] of groups) for (const c of await p) held.push({ what, c });
    const bound = PREAUTH_S * 1000 + SLACK_MS;
    await Promise.all(held.map(({ c }) => c.waitClosed(bound - c.heldMs)));
  });
  const bound = PREAUTH_S * 1000 + SLACK_MS;
  const overdue = new Map<string, number>();
  for (const { what, c } of held) {
    if (!c.closed || c.heldMs > bound) overdue.set(what, (overdue.get(what) ?? 0) + 1);
    c.close();
  }
  const problems = healthProblems(report);
  for (const [what, n] of overdue) problems.push(`${n} × ${what} still open after ${bound} ms`);
  // only the canary's own sessions (IDLE and perhaps one login) may be left
  const sessions = r.relay.parts.imap.sessionCount;
  if (sessions > 2) problems.push(`${sessions} IMAP sessions left after the attack`);
  assert.deepEqual(problems, []);
});
