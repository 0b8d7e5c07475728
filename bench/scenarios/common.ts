/** Receivers (logged in, INBOX selected, in IDLE) and senders shared by the scenarios. */
import { ImapConn } from "../load/imap.ts";
import { Sender } from "../load/smtp.ts";
import { runPool, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";

export interface Receiver {
  idx: number;
  addr: string;
  conn: ImapConn;
  /** EXISTS right after SELECT (and expunge). */
  base: number;
}

export async function openReceiver(target: Target, i: number, expunge: boolean): Promise<Receiver> {
  const acc = target.accounts.get(i);
  const conn = new ImapConn(target.imap);
  await conn.connect();
  await conn.login(acc.user, acc.pass);
  await conn.select("INBOX");
  if (expunge) await conn.expungeAll();
  const r = { idx: i, addr: acc.user, conn, base: conn.exists };
  await conn.idle();
  return r;
}

export async function openReceivers(
  target: Target,
  first: number,
  n: number,
  concurrency = 50,
): Promise<Receiver[]> {
  const out: Receiver[] = new Array(n);
  const errors: Record<string, number> = {};
  await runPool(n, concurrency, async (i) => {
    try {
      out[i] = await openReceiver(target, first + i, true);
    } catch (e) {
      tally(errors, e);
    }
  });
  const ok = out.filter(Boolean);
  if (ok.length < n) {
    for (const r of ok) r.conn.destroy();
    throw new Error(`only ${ok.length}/${n} receivers connected: ${JSON.stringify(errors)}`);
  }
  return ok;
}

export async function openSenders(target: Target, first: number, m: number): Promise<Sender[]> {
  const senders: Sender[] = [];
  await runPool(m, 16, async (j) => {
    const s = new Sender(target.smtp, target.accounts.get(first + j));
    await s.open();
    senders[j] = s;
  });
  return senders;
}

export function closeAll(receivers: Receiver[], senders: Sender[]): void {
  for (const s of senders) s.close();
  for (const r of receivers) r.conn.logoutAndClose();
}
