/**
 * (c) Memory per idle session: C logged-in TLS IMAP sessions (SELECT INBOX,
 * then IDLE), each on its own account; the server's RSS (and PSS) before and
 * after, divided by C. For chatrelay the child runs a full GC before each
 * sample, and the V8 heap delta is reported too.
 */
import { ImapConn } from "../load/imap.ts";
import { type MemSample, processMemory } from "../load/procmem.ts";
import { round1, runPool, sleep, summarize, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";

export interface MemoryOptions {
  sessions: number;
  offset: number;
  concurrency: number;
  settleS: number;
}

async function sample(target: Target): Promise<{ mem: MemSample | undefined; heapUsed?: number }> {
  const g = await target.gc();
  return { mem: target.memory(), heapUsed: g?.heapUsed };
}

export async function memory(target: Target, o: MemoryOptions) {
  await sleep(o.settleS * 1000); // let earlier connections go away
  const before = await sample(target);
  const selfBefore = processMemory(process.pid);
  const conns: ImapConn[] = [];
  const setup: number[] = [];
  const errors: Record<string, number> = {};
  let dropped = 0;
  const t0 = performance.now();
  let lastReport = t0;
  await runPool(o.sessions, o.concurrency, async (i) => {
    const acc = target.accounts.get(o.offset + i);
    const conn = new ImapConn(target.imap);
    const ts = performance.now();
    try {
      await conn.connect();
      await conn.login(acc.user, acc.pass);
      await conn.select("INBOX");
      await conn.idle();
      setup.push(performance.now() - ts);
      conn.onClose = () => {
        dropped++;
      };
      conns.push(conn);
    } catch (e) {
      tally(errors, e);
      conn.destroy();
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stdout.write(
        `  memory: ${conns.length}/${o.sessions} sessions (${((lastReport - t0) / 1000).toFixed(0)} s)\n`,
      );
    }
  });
  const setupS = (performance.now() - t0) / 1000;
  await sleep(o.settleS * 1000);
  const after = await sample(target);
  const selfAfter = processMemory(process.pid);
  const ok = conns.length;
  const per = (a?: number, b?: number) =>
    a !== undefined && b !== undefined && ok ? round1((a - b) / ok) : null;
  const result = {
    params: o,
    established: ok,
    failed: o.sessions - ok,
    droppedWhileHeld: dropped,
    errors,
    setupS: round1(setupS),
    setupPerSec: round1(ok / setupS),
    setupMs: summarize(setup),
    server: {
      before: before.mem,
      after: after.mem,
      rssKiBPerSession: per(after.mem?.rssKb, before.mem?.rssKb),
      pssKiBPerSession: per(after.mem?.pssKb, before.mem?.pssKb),
      heapKiBPerSession:
        after.heapUsed !== undefined && before.heapUsed !== undefined
          ? per(after.heapUsed / 1024, before.heapUsed / 1024)
          : null,
    },
    loadGeneratorKiBPerSession: per(selfAfter?.rssKb, selfBefore?.rssKb),
  };
  for (const c of conns) c.destroy();
  return result;
}
