/**
 * Federation throughput: two relays in this process (A _alpha.bench on 127.0.0.2,
 * B _beta.bench on 127.0.0.3, names from a DNS server on loopback, DKIM keys
 * published there). Several senders submit N encrypted messages on A to users on
 * B; the clock runs until every message is in B's store (counted from B's event
 * bus). Once over HTTPS /mxdeliv, once SMTP-only (B's HTTPS listener off), and
 * as the yardstick once "local": the same load to users on A itself (A's own
 * delivery, no federation). `--peer postfix` adds the same load between two
 * Postfix instances (federation-postfix.ts); `--rounds N` repeats the whole set,
 * alternating, so that every figure sees the same machine load.
 *
 * `npx tsx bench/federation.ts [--messages N] [--senders N] [--receivers N] [--size BYTES]
 *   [--channel https,smtp,local] [--peer postfix] [--rounds N]`
 *
 * Both relays, the DNS server and the senders share one event loop, so the numbers
 * are those of one Node.js process doing both ends of the federation.
 */
import { createPublicKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Config } from "../src/config/types.ts";
import { dkimTxtRecord } from "../src/dkim/keys.ts";
import { dkimKeyPath } from "../src/dkim/path.ts";
import { type DnsServer, startDnsServer } from "../test/support/dns-server.ts";
import { commonFreePort } from "../test/support/ports.ts";
import { startTestRelay, type TestRelay } from "../test/support/relay.ts";
import { MessageFactory } from "./load/payload.ts";
import { Sender } from "./load/smtp.ts";
import { round1, type Summary, summarize, tally } from "./load/stats.ts";

export type Channel = "https" | "smtp" | "local" | "postfix";

export interface FederationBenchOptions {
  messages?: number;
  senders?: number;
  receivers?: number;
  /** Message size in bytes. */
  size?: number;
  channels?: Channel[];
  /** Give up on a channel after this long. */
  timeoutMs?: number;
  /** "postfix": also Postfix → Postfix, alternating with the channels. */
  peer?: "postfix" | "none";
  rounds?: number;
}

export interface ChannelResult {
  channel: Channel;
  messages: number;
  arrived: number;
  /** Submission of the first message to the last one in B's store. */
  seconds: number;
  perSecond: number;
  /** Submissions accepted by A per second (until the last 250). */
  submittedPerSecond: number;
  /** Submit start → in B's store, ms (matched per recipient in order). */
  latencyMs: Summary;
  /** CPU time of this process (both relays) per delivered message. */
  cpuMsPerMessage: number;
  /** Jobs still in A's outbound queue at the end (a deferred one waits a minute). */
  leftInQueue: number;
  errors: Record<string, number>;
}

const A = { domain: "_alpha.bench", ip: "127.0.0.2" };
const B = { domain: "_beta.bench", ip: "127.0.0.3" };
const PASSWORD = "benchpass-123";

function publishDkim(dns: DnsServer, r: TestRelay): void {
  const pub = createPublicKey(readFileSync(dkimKeyPath(r.config), "utf8"))
    .export({ type: "spki", format: "pem" })
    .toString();
  dns.zone.set(`${r.config.dkim_selector}._domainkey.${r.domain}`, { TXT: [dkimTxtRecord(pub)] });
}

/** Local parts of 9 characters: chatmail's default username length. */
const address = (prefix: string, i: number, domain: string) =>
  `${prefix}${String(i).padStart(8, "0")}@${domain}`;

async function createAccount(r: TestRelay, user: string): Promise<void> {
  const res = await r.relay.parts.accounts.login(user, PASSWORD, "smtp", "127.0.0.1");
  if (!res.ok) throw new Error(`cannot create ${user}: ${res.detail}`);
}

/**
 * The load: `sends` (one per sender, in parallel) submit `o.messages` round-robin over
 * `receivers`, noting each submission in `submittedAt`; then waits for `done` (every
 * message arrived) or the timeout. Seconds count from the first submission.
 */
export async function submitAll(
  sends: Array<(to: string) => Promise<unknown>>,
  receivers: string[],
  o: { messages: number; timeoutMs: number },
  submittedAt: Map<string, number[]>,
  done: Promise<void>,
  arrived: () => number,
): Promise<
  Pick<ChannelResult, "messages" | "arrived" | "seconds" | "perSecond" | "submittedPerSecond" | "errors">
> {
  const errors: Record<string, number> = {};
  const t0 = performance.now();
  let next = 0;
  let lastAccepted = t0;
  await Promise.all(
    sends.map(async (send) => {
      while (next < o.messages) {
        const to = receivers[next++ % receivers.length]!;
        submittedAt.get(to)!.push(performance.now());
        try {
          await send(to);
          lastAccepted = performance.now();
        } catch (e) {
          tally(errors, e);
        }
      }
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, o.timeoutMs)))]);
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  return {
    messages: o.messages,
    arrived: arrived(),
    seconds: round1(seconds),
    perSecond: round1(arrived() / seconds),
    submittedPerSecond: round1(o.messages / ((lastAccepted - t0) / 1000)),
    errors,
  };
}

async function runChannel(channel: Channel, o: Required<FederationBenchOptions>): Promise<ChannelResult> {
  const dns = await startDnsServer({
    [A.domain]: { A: [A.ip], MX: [{ exchange: A.domain, priority: 10 }] },
    [B.domain]: { A: [B.ip], MX: [{ exchange: B.domain, priority: 10 }] },
  });
  const ports = { https: await commonFreePort([A.ip, B.ip]), smtp: await commonFreePort([A.ip, B.ip]) };
  const config = (side: typeof A, https: boolean): Partial<Config> => ({
    mail_domain: side.domain,
    listen_address: side.ip,
    dns_servers: [dns.address],
    https_port: https ? ports.https : -1,
    smtp_port: ports.smtp,
    outbound_https_port: ports.https,
    outbound_smtp_port: ports.smtp,
    // the per-sender limit (docs/reference-relay.md §3.3) is not what is measured here
    max_user_send_per_minute: 1_000_000,
    max_user_send_burst_size: 1_000_000,
  });
  const relays: TestRelay[] = [];
  const senders: Sender[] = [];
  let unsubscribe = () => {};
  try {
    const a = await startTestRelay(config(A, true));
    relays.push(a);
    publishDkim(dns, a);
    // "local": A delivers to its own users, the yardstick for the federation
    let b = a;
    if (channel !== "local") {
      b = await startTestRelay(config(B, channel === "https"));
      relays.push(b);
      publishDkim(dns, b);
    }
    const receivers = Array.from({ length: o.receivers }, (_, i) => address("r", i + 1, b.domain));
    for (const r of receivers) await createAccount(b, r);
    for (let j = 0; j < o.senders; j++) {
      const user = address("s", j + 1, A.domain);
      await createAccount(a, user);
      const s = new Sender(
        { host: A.ip, port: a.submissionsPort, tls: "implicit" },
        { user, pass: PASSWORD },
      );
      await s.open();
      senders.push(s);
    }
    const factory = new MessageFactory(o.size);
    const submittedAt = new Map<string, number[]>(receivers.map((r) => [r, []]));
    const latencies: number[] = [];
    let arrived = 0;
    let allArrived: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    unsubscribe = b.relay.parts.bus.subscribeAll((e) => {
      if (e.kind !== "exists" || !e.sender?.endsWith(`@${A.domain}`)) return;
      for (const _ of e.records) {
        const t = submittedAt.get(e.address)?.shift();
        if (t !== undefined) latencies.push(performance.now() - t);
        if (++arrived >= o.messages) allArrived();
      }
    });
    const cpu0 = process.cpuUsage();
    const run = await submitAll(
      senders.map((s) => (to: string) => s.send(to, factory.make(s.account.user, to))),
      receivers,
      o,
      submittedAt,
      done,
      () => arrived,
    );
    const cpu = process.cpuUsage(cpu0);
    // A deletes a job only after B's answer: give the last ones a moment
    const settle = performance.now() + 5000;
    while ((await a.relay.parts.store.listJobs("outbound")).length && performance.now() < settle)
      await new Promise((r) => setTimeout(r, 20));
    return {
      channel,
      ...run,
      latencyMs: summarize(latencies),
      cpuMsPerMessage: round1((cpu.user + cpu.system) / 1000 / Math.max(1, run.arrived)),
      leftInQueue: (await a.relay.parts.store.listJobs("outbound")).length,
    };
  } finally {
    unsubscribe();
    for (const s of senders) s.close();
    for (const r of relays.reverse()) await r.close();
    await dns.close();
  }
}

export async function benchFederation(opts: FederationBenchOptions = {}): Promise<ChannelResult[]> {
  const o: Required<FederationBenchOptions> = {
    // Postfix → Postfix alongside whenever this machine can run it (root, Debian's postfix)
    peer: opts.peer ?? (existsSync("/usr/sbin/postfix") && process.getuid?.() === 0 ? "postfix" : "none"),
    rounds: opts.rounds ?? 1,
    messages: opts.messages ?? 1000,
    senders: opts.senders ?? 8,
    receivers: opts.receivers ?? 20,
    size: opts.size ?? 4096,
    channels: opts.channels ?? ["https", "smtp", "local"],
    timeoutMs: opts.timeoutMs ?? 120_000,
  };
  const out: ChannelResult[] = [];
  const channels = [...o.channels, ...(o.peer === "postfix" ? (["postfix"] as const) : [])];
  for (let round = 0; round < o.rounds; round++)
    for (const channel of channels) {
      if (channel !== "postfix") out.push(await runChannel(channel, o));
      else {
        const { runPostfixPair } = await import("./federation-postfix.ts");
        out.push(await runPostfixPair(o));
      }
    }
  return out;
}

export function formatFederation(results: ChannelResult[]): string {
  const head = [
    "channel",
    "arrived",
    "seconds",
    "msg/s",
    "submit/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "CPU ms/msg",
    "queued",
  ];
  const rows = results.map((r) => [
    r.channel,
    `${r.arrived}/${r.messages}`,
    String(r.seconds),
    String(r.perSecond),
    String(r.submittedPerSecond),
    String(r.latencyMs.p50 ?? "-"),
    String(r.latencyMs.p90 ?? "-"),
    String(r.latencyMs.p99 ?? "-"),
    Number.isNaN(r.cpuMsPerMessage) ? "-" : String(r.cpuMsPerMessage),
    String(r.leftInQueue),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  const errors = results
    .filter((r) => Object.keys(r.errors).length)
    .map((r) => `${r.channel} errors: ${JSON.stringify(r.errors)}`);
  return [line(head), ...rows.map(line), ...errors].join("\n");
}

function parseArgs(argv: string[]): FederationBenchOptions {
  const o: FederationBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === "--messages") o.messages = Number(value);
    else if (flag === "--senders") o.senders = Number(value);
    else if (flag === "--receivers") o.receivers = Number(value);
    else if (flag === "--size") o.size = Number(value);
    else if (flag === "--timeout") o.timeoutMs = Number(value) * 1000;
    else if (flag === "--channel") o.channels = value.split(",") as Channel[];
    else if (flag === "--peer") o.peer = value as "postfix" | "none";
    else if (flag === "--rounds") o.rounds = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const opts = parseArgs(process.argv.slice(2));
  benchFederation(opts).then(
    (results) => {
      console.log(formatFederation(results));
      process.exit(results.every((r) => r.arrived === r.messages) ? 0 : 1);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
