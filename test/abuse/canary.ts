/**
 * The canary: an ordinary user of a live relay, measured while an attack runs.
 *
 * A receiver sits in IMAP IDLE (RFC 2177) on a raw TLS connection; a sender
 * logs in on implicit-TLS submission (RFC 8314), submits an encrypted message
 * to the receiver and the round ends when the receiver's IDLE announces the new
 * message with `* n EXISTS` (RFC 3501 §7.3.1). Each round also times a fresh
 * IMAP TLS connect + LOGIN. Everything comes from 127.0.0.1; attackers use
 * other loopback addresses.
 *
 * The relay runs in this process, so the monitor samples this process's RSS
 * and event-loop delay (perf_hooks.monitorEventLoopDelay); attack clients are
 * raw sockets that hold little memory of their own.
 */
import { availableParallelism, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Config } from "../../src/config/types.ts";
import { fixture } from "../support/mail.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { Conn, sleep } from "./wire.ts";

export interface Figures {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface CanaryReport {
  /** connect + AUTH + submit until the receiver's IDLE says EXISTS, ms. */
  submit: Figures;
  /** fresh IMAP TLS connect + greeting + LOGIN, ms. */
  login: Figures;
  failures: string[];
}

export function figures(samples: number[]): Figures {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? Number.NaN };
}

const STEP_MS = 10_000;

/** Tight limits so that each attack reaches them within seconds (durations in seconds). */
export const TIGHT = {
  max_connections_per_ip: 20,
  max_mx_connections_per_ip: 20,
  tls_handshake_timeout: 2,
  preauth_timeout: 3,
  max_buffered_bytes: 32 * 2 ** 20,
  max_message_size: 8 * 2 ** 20,
} satisfies Partial<Config>;

/** A relay with the TIGHT limits (and `overrides`); the canary may send as often as it likes. */
export function startAbuseRelay(overrides: Partial<Config> = {}): Promise<TestRelay> {
  return startTestRelay({ max_user_send_per_minute: 1_000_000, ...TIGHT, ...overrides });
}

export class Canary {
  private readonly submitMs: number[] = [];
  private readonly loginMs: number[] = [];
  private readonly failures: string[] = [];
  private idle: Conn | undefined;
  private exists = 0;
  private existsWaiters: Array<() => void> = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly receiver: string;
  private readonly sender: string;

  constructor(private readonly r: TestRelay) {
    this.receiver = r.newAddress();
    this.sender = r.newAddress();
  }

  /** Creates both accounts, opens the IDLE session and runs one warm-up round. */
  async start(): Promise<void> {
    await this.openIdle();
    await this.round(false);
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop and returns the figures of every measured round. */
  async stop(): Promise<CanaryReport> {
    this.running = false;
    await this.loop;
    this.idle?.close();
    return { submit: figures(this.submitMs), login: figures(this.loginMs), failures: [...this.failures] };
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.round(true);
      await sleep(100);
    }
  }

  private async round(record: boolean): Promise<void> {
    try {
      const t0 = Date.now();
      await this.login();
      if (record) this.loginMs.push(Date.now() - t0);
    } catch (e) {
      if (record) this.failures.push(`login: ${(e as Error).message}`);
      else throw e;
    }
    try {
      if (!this.idle || this.idle.closed) {
        if (record) this.failures.push("idle: connection closed by the server");
        await this.openIdle();
      }
      const before = this.exists;
      const t0 = Date.now();
      await this.submit();
      await this.waitExists(before, STEP_MS);
      if (record) this.submitMs.push(Date.now() - t0);
    } catch (e) {
      if (record) this.failures.push(`submit: ${(e as Error).message}`);
      else throw e;
    }
  }

  private async openIdle(): Promise<void> {
    this.idle?.close();
    const c = await Conn.open({ port: this.r.imapsPort, tls: true, timeout: STEP_MS });
    await c.line(STEP_MS);
    c.write(`a LOGIN ${this.receiver} ${this.r.password}\r\n`);
    expectOk(await c.until("a ", STEP_MS));
    c.write("b SELECT INBOX\r\n");
    expectOk(await c.until("b ", STEP_MS, (l) => this.seen(l)));
    c.write("c IDLE\r\n");
    await c.until("+", STEP_MS);
    this.idle = c;
    void this.readIdle(c);
  }

  private async readIdle(c: Conn): Promise<void> {
    try {
      for (;;) this.seen(await c.line(24 * 3600_000));
    } catch {
      // closed: the next round notices
    }
  }

  private seen(line: string): void {
    const m = /^\* (\d+) EXISTS$/.exec(line);
    if (m) {
      this.exists = Number(m[1]);
      for (const w of this.existsWaiters.splice(0)) w();
    }
  }

  private async waitExists(before: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.exists <= before) {
      if (Date.now() >= deadline) throw new Error(`no EXISTS within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.existsWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** A fresh IMAP TLS connection that logs in and out. */
  private async login(): Promise<void> {
    const c = await Conn.open({ port: this.r.imapsPort, tls: true, timeout: STEP_MS });
    try {
      const greeting = await c.line(STEP_MS);
      if (!greeting.startsWith("* OK")) throw new Error(`greeting: ${greeting}`);
      c.write(`l LOGIN ${this.receiver} ${this.r.password}\r\n`);
      expectOk(await c.until("l ", STEP_MS));
      c.write("o LOGOUT\r\n");
    } finally {
      c.close();
    }
  }

  /** One message over implicit-TLS submission with AUTH PLAIN (RFC 4616). */
  private async submit(): Promise<void> {
    const c = await Conn.open({ port: this.r.submissionsPort, tls: true, timeout: STEP_MS });
    try {
      expectCode(await c.reply(STEP_MS), "220");
      expectCode(await c.smtp("EHLO canary.test", STEP_MS), "250");
      const plain = Buffer.from(`\0${this.sender}\0${this.r.password}`).toString("base64");
      expectCode(await c.smtp(`AUTH PLAIN ${plain}`, STEP_MS), "235");
      expectCode(await c.smtp(`MAIL FROM:<${this.sender}>`, STEP_MS), "250");
      expectCode(await c.smtp(`RCPT TO:<${this.receiver}>`, STEP_MS), "250");
      expectCode(await c.smtp("DATA", STEP_MS), "354");
      const body = fixture("encrypted", this.sender, this.receiver, "canary").toString("latin1");
      c.write(`${body.replace(/^\./gm, "..")}${body.endsWith("\r\n") ? "" : "\r\n"}`);
      expectCode(await c.smtp(".", STEP_MS), "250");
      c.write("QUIT\r\n");
    } finally {
      c.close();
    }
  }
}

function expectOk(line: string): void {
  if (!/^\S+ OK/.test(line)) throw new Error(line);
}

function expectCode(reply: string, code: string): void {
  if (!reply.startsWith(code)) throw new Error(reply);
}

/** Samples RSS and event-loop delay of this process while an attack runs. */
export class Monitor {
  private readonly baseline = process.memoryUsage().rss;
  private peak = this.baseline;
  private readonly timer: NodeJS.Timeout;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, process.memoryUsage().rss);
    }, 50);
  }

  /** RSS growth over the baseline at the peak so far, in MiB. */
  get rssGrowthMb(): number {
    return (this.peak - this.baseline) / 2 ** 20;
  }

  stop(): { rssGrowthMb: number; loopMaxMs: number; loopP99Ms: number } {
    clearInterval(this.timer);
    this.loop.disable();
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
    return {
      rssGrowthMb: this.rssGrowthMb,
      loopMaxMs: this.loop.max / 1e6,
      loopP99Ms: this.loop.percentile(99) / 1e6,
    };
  }
}

export interface AttackReport extends CanaryReport {
  rssGrowthMb: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

/**
 * Runs `attack` while the canary works and the monitor samples; prints one line
 * of figures labelled `name` and returns them.
 */
export async function underAttack(
  r: TestRelay,
  name: string,
  attack: () => Promise<void>,
  opts: { minMs?: number } = {},
): Promise<AttackReport> {
  const canary = new Canary(r);
  await canary.start();
  global.gc?.();
  const monitor = new Monitor();
  const t0 = Date.now();
  let error: unknown;
  try {
    await attack();
    // enough canary rounds for a p99 even when the attack is short
    const left = (opts.minMs ?? 2000) - (Date.now() - t0);
    if (left > 0) await sleep(left);
  } catch (e) {
    error = e;
  }
  const report = await canary.stop();
  const health = monitor.stop();
  if (error) {
    console.log(describe(name, { ...report, ...health }));
    throw error;
  }
  const all = { ...report, ...health };
  console.log(describe(name, all));
  return all;
}

export function describe(name: string, a: AttackReport): string {
  const f = (x: Figures) => `p50 ${x.p50} p99 ${x.p99} max ${x.max} ms (n=${x.n})`;
  return (
    `abuse[${name}]: canary submit→EXISTS ${f(a.submit)}; IMAP connect+LOGIN ${f(a.login)}; ` +
    `event loop max ${a.loopMaxMs.toFixed(0)} p99 ${a.loopP99Ms.toFixed(0)} ms; ` +
    `RSS +${a.rssGrowthMb.toFixed(0)} MiB; load ${loadavg()[0]!.toFixed(1)}; failures ${a.failures.length}` +
    (a.failures.length ? ` (${a.failures.slice(0, 3).join(" | ")})` : "")
  );
}

/** The suite's common bounds: generous, so that only an attack that works trips them. */
export const BOUNDS = { p99Ms: 2000, rssMb: 150, loopMaxMs: 500 };

/**
 * How much slower than its cores allow the machine is right now: the 1-minute
 * load average per core, at least 1. With the suite and a CPU hog on two cores
 * it is about 1; when other work overcommits the machine several times, time
 * bounds grow by the same factor, so that only a stall the attack causes trips
 * them, not the machine's own queue.
 */
export function overcommit(): number {
  return Math.max(1, loadavg()[0]! / availableParallelism());
}

export function healthProblems(a: AttackReport, bounds: Partial<typeof BOUNDS> = {}): string[] {
  const given = { ...BOUNDS, ...bounds };
  const k = overcommit();
  const b = { ...given, p99Ms: Math.round(given.p99Ms * k), loopMaxMs: Math.round(given.loopMaxMs * k) };
  const out: string[] = [];
  if (a.failures.length) out.push(`canary failures: ${a.failures.join(" | ")}`);
  if (a.submit.n === 0 || a.login.n === 0) out.push("the canary completed no round");
  if (a.submit.p99 > b.p99Ms) out.push(`canary submit p99 ${a.submit.p99} ms > ${b.p99Ms}`);
  if (a.login.p99 > b.p99Ms) out.push(`canary login p99 ${a.login.p99} ms > ${b.p99Ms}`);
  if (a.rssGrowthMb > b.rssMb) out.push(`RSS grew ${a.rssGrowthMb.toFixed(0)} MiB > ${b.rssMb}`);
  if (a.loopMaxMs > b.loopMaxMs) out.push(`event loop stalled ${a.loopMaxMs.toFixed(0)} ms > ${b.loopMaxMs}`);
  return out;
}
