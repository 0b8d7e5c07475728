/**
 * (c) Memory per idle session: C logged-in TLS IMAP sessions (SELECT INBOX,
 * then IDLE), each on its own account; the server's RSS (and PSS) before and
 * after, divided by C. For chatrelay the child runs a full GC before each
 * sample, and the V8 heap delta is reported too.
 *
 * Then every session is closed and the server's RSS sampled again: freed
 * memory must return to the system ("RSS after close", compared with the start).
 * With --cycles N the connect/close cycle runs N times on the same accounts;
 * RSS after each cycle's close shows whether repeated cycles make it grow.
 */
import os from "node:os";
import { ImapConn } from "../load/imap.ts";
import { type MemSample, processMemory } from "../load/procmem.ts";
import { round1, runPool, type Summary, sleep, summarize, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";

export interface MemoryOptions {
  sessions: number;
  offset: number;
  concurrency: number;
  settleS: number;
  /** Connect/close cycles (1: the per-session figures and one close). */
  cycles?: number;
}

interface Sample {
  mem: MemSample | undefined;
  heapUsed?: number;
}

async function sample(target: Target): Promise<Sample> {
  const g = await target.gc();
  return { mem: target.memory(), heapUsed: g?.heapUsed };
}

interface Held {
  conns: ImapConn[];
  setup: number[];
  errors: Record<string, number>;
  dropped: () => number;
  setupS: number;
}

/** Opens `o.sessions` idle sessions (LOGIN, SELECT INBOX, IDLE). */
async function openSessions(target: Target, o: MemoryOptions, cycle: number): Promise<Held> {
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
        `  memory${o.cycles && o.cycles > 1 ? ` cycle ${cycle}` : ""}: ${conns.length}/${o.sessions} sessions (${((lastReport - t0) / 1000).toFixed(0)} s)\n`,
      );
    }
  });
  return { conns, setup, errors, dropped: () => dropped, setupS: (performance.now() - t0) / 1000 };
}

export async function memory(target: Target, o: MemoryOptions) {
  const cycles = Math.max(1, o.cycles ?? 1);
  await sleep(o.settleS * 1000); // let earlier connections go away
  const before = await sample(target);
  const selfBefore = processMemory(process.pid);
  let first:
    | {
        after: Sample;
        selfAfter: MemSample | undefined;
        held: Held;
        setupMs: Summary;
      }
    | undefined;
  const closes: { cycle: number; established: number; heldRssKb?: number; rssKb?: number; pssKb?: number }[] =
    [];
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const held = await openSessions(target, o, cycle);
    await sleep(o.settleS * 1000);
    const after = await sample(target);
    if (!first)
      first = { after, selfAfter: processMemory(process.pid), held, setupMs: summarize(held.setup) };
    for (const c of held.conns) c.destroy();
    await sleep(o.settleS * 1000); // the server notices the closes and frees the sessions
    const closed = await sample(target);
    closes.push({
      cycle,
      established: held.conns.length,
      heldRssKb: after.mem?.rssKb,
      rssKb: closed.mem?.rssKb,
      pssKb: closed.mem?.pssKb,
    });
    process.stdout.write(
      `  memory: cycle ${cycle}: RSS start ${before.mem?.rssKb} KiB, held ${after.mem?.rssKb}, after close ${closed.mem?.rssKb}\n`,
    );
  }
  const { after, selfAfter, held, setupMs } = first!;
  const ok = held.conns.length;
  const per = (a?: number, b?: number) =>
    a !== undefined && b !== undefined && ok ? round1((a - b) / ok) : null;
  const pct = (a?: number, b?: number) => (a !== undefined && b ? round1(((a - b) / b) * 100) : null);
  const start = before.mem?.rssKb;
  const lastClose = closes[closes.length - 1]?.rssKb;
  return {
    params: { ...o, cycles },
    established: ok,
    failed: o.sessions - ok,
    droppedWhileHeld: held.dropped(),
    errors: held.errors,
    setupS: round1(held.setupS),
    setupPerSec: round1(ok / held.setupS),
    setupMs,
    server: {
      before: before.mem,
      after: after.mem,
      rssKiBPerSession: per(after.mem?.rssKb, before.mem?.rssKb),
      pssKiBPerSession: per(after.mem?.pssKb, before.mem?.pssKb),
      heapKiBPerSession:
        after.heapUsed !== undefined && before.heapUsed !== undefined
          ? per(after.heapUsed / 1024, before.heapUsed / 1024)
          : null,
      /** RSS after the last cycle's close, and how far above the start it stays (%). */
      rssAfterCloseKb: lastClose ?? null,
      rssAfterClosePct: pct(lastClose, start),
      /** Growth of RSS-after-close from the first cycle to the last (%). */
      rssGrowthOverCyclesPct: cycles > 1 ? pct(lastClose, closes[0]?.rssKb) : null,
      cycles: closes,
    },
    loadGeneratorKiBPerSession: per(selfAfter?.rssKb, selfBefore?.rssKb),
    loadavgAtEnd: os.loadavg().map(round1),
  };
}
