/** (d) Sequential TLS connect + greeting + LOGIN, each on a fresh account, then logout. */
import { ImapConn } from "../load/imap.ts";
import { round1, summarize, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";

export interface LoginOptions {
  count: number;
  offset: number;
}

export async function login(target: Target, o: LoginOptions) {
  const total: number[] = [];
  const handshake: number[] = [];
  const loginOnly: number[] = [];
  const errors: Record<string, number> = {};
  let failures = 0;
  const t0 = performance.now();
  for (let i = 0; i < o.count; i++) {
    const acc = target.accounts.get(o.offset + i);
    const conn = new ImapConn(target.imap);
    try {
      await conn.connect();
      await conn.login(acc.user, acc.pass);
      const t1 = performance.now();
      total.push(t1 - conn.t.start);
      if (conn.t.tls !== undefined) handshake.push(conn.t.tls - conn.t.start);
      loginOnly.push(t1 - conn.t.greeting!);
    } catch (e) {
      failures++;
      tally(errors, e);
    }
    conn.logoutAndClose();
  }
  return {
    params: o,
    connectPlusLoginMs: summarize(total),
    tlsHandshakeMs: summarize(handshake),
    loginCommandMs: summarize(loginOnly),
    failures,
    errors,
    durationS: round1((performance.now() - t0) / 1000),
  };
}
