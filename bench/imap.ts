/**
 * IMAP server benchmarks (run directly: `npx tsx bench/imap.ts [--quick]`):
 *
 * (a) commit-to-EXISTS latency: `sessions` logged-in TLS sessions sit in IDLE on
 *     INBOX; one delivery at a time goes to a random one of them. Measured from
 *     just before store.deliver + bus.publish to the moment that client reads
 *     `* n EXISTS` (server and clients in this process, one clock).
 * (b) memory per idle session: a child process runs only the server; this
 *     process opens `memorySessions` TLS sessions (LOGIN, SELECT INBOX, IDLE),
 *     one account each. The child's RSS (after a full GC) before and after,
 *     divided by the number of sessions.
 * (c) FETCH BODY[] throughput: `UID FETCH 1:* BODY.PEEK[]` of `fetchMessages`
 *     messages of 100 KiB over TLS, repeated; MiB/s and messages/s.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath, pathToFileURL } from "node:url";
import { AccountService } from "../src/accounts/accounts.ts";
import { sha512Crypt } from "../src/accounts/sha512-crypt.ts";
import { testConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/types.ts";
import { LocalEventBus } from "../src/events/bus.ts";
import { ImapServer } from "../src/imap/server.ts";
import { silentLogger } from "../src/log.ts";
import { openStore } from "../src/store/open.ts";
import type { Store } from "../src/store/types.ts";
import { selfSignedCertificate } from "../src/tls/selfsigned.ts";
import { ImapConn } from "./load/imap.ts";
import { round1, runPool, summarize } from "./load/stats.ts";

export interface ImapBenchOptions {
  /** IDLE sessions for (a). */
  sessions?: number;
  /** Measured deliveries for (a). */
  deliveries?: number;
  /** Sessions for (b). */
  memorySessions?: number;
  /** 100 KiB messages for (c). */
  fetchMessages?: number;
  /** Passed by bench/main.ts; unused. */
  seconds?: number;
  writers?: number[];
}

const PASSWORD = "bench-password-1";
const THIS_FILE = fileURLToPath(import.meta.url);

/** A {SHA512-CRYPT} hash with the minimum of 1000 rounds, shared by all bench accounts. */
function benchHash(): string {
  return `{SHA512-CRYPT}${sha512Crypt(PASSWORD, "benchsaltbenchsa", 1000)}`;
}

function address(config: Config, i: number): string {
  return `b${String(i).padStart(8, "0")}@${config.mail_domain}`;
}

async function createAccounts(store: Store, config: Config, n: number): Promise<void> {
  const hash = benchHash();
  const now = Math.floor(Date.now() / 1000);
  await runPool(n, 256, async (i) => {
    await store.createAccount(address(config, i), hash, now);
  });
}

interface Running {
  server: ImapServer;
  store: Store;
  bus: LocalEventBus;
  accounts: AccountService;
  config: Config;
  port: number;
  close(): Promise<void>;
}

async function startServer(accountCount: number): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-bench-imap-"));
  const config = testConfig({ data_dir: dir, max_imap_connections: 50_000, imap_idle_keepalive: 3600 });
  const store = await openStore(dir);
  await createAccounts(store, config, accountCount);
  const bus = new LocalEventBus();
  const accounts = new AccountService({ config, store, log: silentLogger });
  const server = new ImapServer({
    config,
    store,
    accounts,
    bus,
    log: silentLogger,
    tls: await selfSignedCertificate(["_chatrelay.test"]),
  });
  const listener = await server.listen(0, "127.0.0.1", "implicit");
  return {
    server,
    store,
    bus,
    accounts,
    config,
    port: (listener.address() as { port: number }).port,
    async close() {
      await server.close(2000);
      await accounts.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function idleSession(port: number, user: string): Promise<ImapConn> {
  const conn = new ImapConn({ host: "127.0.0.1", port, tls: "implicit", timeoutMs: 120_000 });
  await conn.connect();
  await conn.login(user, PASSWORD);
  await conn.select("INBOX");
  await conn.idle();
  return conn;
}

const MESSAGE = Buffer.from(
  [
    "From: <sender@example.org>",
    "To: <receiver@example.org>",
    "Subject: [...]",
    "Message-ID: <bench@localhost>",
    "Chat-Version: 1.0",
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"',
    "",
    "--b",
    "Content-Type: application/pgp-encrypted",
    "",
    "Version: 1",
    "--b",
    "Content-Type: application/octet-stream",
    "",
    "-----BEGIN PGP MESSAGE-----",
    "",
    "x".repeat(3000),
    "-----END PGP MESSAGE-----",
    "--b--",
    "",
  ].join("\r\n"),
);

/** (a) */
async function latency(sessions: number, deliveries: number) {
  const r = await startServer(sessions);
  try {
    const conns: ImapConn[] = [];
    const t0 = performance.now();
    await runPool(sessions, 64, async (i) => {
      conns[i] = await idleSession(r.port, address(r.config, i));
    });
    const setupS = (performance.now() - t0) / 1000;
    const samples: number[] = [];
    const fromPublish: number[] = [];
    const warmup = Math.min(20, deliveries);
    let seed = 7;
    for (let k = 0; k < deliveries + warmup; k++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      const i = seed % sessions;
      const conn = conns[i]!;
      const seen = new Promise<number>((resolve) => {
        conn.onExists = (_n, at) => {
          conn.onExists = null;
          resolve(at);
        };
      });
      const start = performance.now();
      const map = await r.store.deliver([address(r.config, i)], { data: MESSAGE });
      const published = performance.now();
      for (const [addr, rec] of map) {
        r.bus.publish({ kind: "exists", address: addr, mailboxId: rec.mailboxId, records: [rec] });
      }
      const at = await seen;
      if (k >= warmup) {
        samples.push(at - start);
        fromPublish.push(at - published);
      }
    }
    for (const c of conns) c.destroy();
    return {
      sessions,
      deliveries,
      setupS: round1(setupS),
      /** From before store.deliver (durable commit, fsync) to the client reading EXISTS. */
      latencyMs: summarize(samples),
      /** The IMAP part alone: from bus.publish to the client reading EXISTS. */
      publishToExistsMs: summarize(fromPublish),
    };
  } finally {
    await r.close();
  }
}

/** (c) */
async function fetchThroughput(messages: number) {
  const r = await startServer(1);
  try {
    const user = address(r.config, 0);
    const body = Buffer.alloc(100 * 1024, "A");
    for (let i = 0; i < messages; i++) {
      await r.store.deliver([user], { data: Buffer.concat([Buffer.from("Subject: big\r\n\r\n"), body]) });
    }
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port: r.port, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    let buf = Buffer.alloc(0);
    let waiter: (() => void) | null = null;
    let received = 0;
    socket.on("data", (c: Buffer) => {
      received += c.length;
      // Keep only the tail: enough to see a tagged line.
      buf = Buffer.concat([buf, c]);
      if (buf.length > 4096) buf = buf.subarray(buf.length - 4096);
      waiter?.();
    });
    const until = async (needle: string) => {
      while (!buf.includes(needle)) await new Promise<void>((res) => (waiter = res));
      buf = Buffer.alloc(0);
    };
    await until("\r\n");
    socket.write(`l LOGIN "${user}" "${PASSWORD}"\r\ns SELECT INBOX\r\n`);
    await until("s OK");
    const rounds: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      received = 0;
      const t = performance.now();
      socket.write(`f${i} UID FETCH 1:* BODY.PEEK[]\r\n`);
      await until(`f${i} OK`);
      rounds.push(performance.now() - t);
      bytes = received;
    }
    socket.destroy();
    const best = Math.min(...rounds) / 1000;
    const median = [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]! / 1000;
    return {
      messages,
      messageKiB: 100,
      bytesPerRound: bytes,
      mibPerSecond: round1(bytes / 2 ** 20 / median),
      messagesPerSecond: Math.round(messages / median),
      bestMibPerSecond: round1(bytes / 2 ** 20 / best),
    };
  } finally {
    await r.close();
  }
}

interface MemReport {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** (b): this process is the client; the server runs in a child. */
async function memory(sessions: number) {
  const child = fork(THIS_FILE, ["--server-child", String(sessions)], {
    execArgv: ["--expose-gc", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = <T>(msg: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      child.once("message", (m) => resolve(m as T));
      child.once("exit", () => reject(new Error("server child exited")));
      child.send(msg as object);
    });
  try {
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { port: number }));
      child.once("exit", () => reject(new Error("server child exited")));
    });
    const before = await ask<MemReport>("mem");
    const conns: ImapConn[] = [];
    const t0 = performance.now();
    let failed = 0;
    await runPool(sessions, 100, async (i) => {
      try {
        conns.push(await idleSession(port, `b${String(i).padStart(8, "0")}@_chatrelay.test`));
      } catch {
        failed++;
      }
    });
    const setupS = (performance.now() - t0) / 1000;
    await new Promise((res) => setTimeout(res, 2000));
    const after = await ask<MemReport>("mem");
    const n = conns.length;
    const per = (k: keyof MemReport) => round1((after[k] - before[k]) / 1024 / n);
    for (const c of conns) c.destroy();
    return {
      sessions: n,
      failed,
      setupS: round1(setupS),
      rssKiBPerSession: per("rss"),
      heapKiBPerSession: per("heapUsed"),
      externalKiBPerSession: per("external"),
      serverRssMiB: { before: round1(before.rss / 2 ** 20), after: round1(after.rss / 2 ** 20) },
    };
  } finally {
    child.send("exit");
    await new Promise((res) => child.once("exit", res));
  }
}

async function serverChild(accountCount: number, parent: ChildProcess | NodeJS.Process): Promise<void> {
  const r = await startServer(accountCount);
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = (): MemReport => {
    for (let i = 0; i < 3; i++) gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  };
  parent.on("message", async (m) => {
    if (m === "mem") parent.send?.(sample());
    if (m === "snapshot") {
      const v8 = await import("node:v8");
      parent.send?.({ file: v8.writeHeapSnapshot(join(tmpdir(), "chatrelay-imap.heapsnapshot")) });
    }
    if (m === "exit") {
      await r.close();
      process.exit(0);
    }
  });
  parent.send?.({ port: r.port });
}

export async function benchImap(opts: ImapBenchOptions = {}) {
  const sessions = opts.sessions ?? 1000;
  const out: Record<string, unknown> = {};
  console.log(`   imap (a): commit-to-EXISTS latency, ${sessions} IDLE sessions`);
  out.latency = await latency(sessions, opts.deliveries ?? 500);
  console.log(`   imap (c): FETCH BODY[] throughput, 100 KiB messages`);
  out.fetch = await fetchThroughput(opts.fetchMessages ?? 200);
  const memorySessions = opts.memorySessions ?? 10_000;
  console.log(`   imap (b): memory per idle TLS session, ${memorySessions} sessions`);
  out.memory = await memory(memorySessions);
  return out;
}

const isMain = process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isMain) {
  if (process.argv[2] === "--server-child") {
    await serverChild(Number(process.argv[3]), process);
  } else {
    const quick = process.argv.includes("--quick");
    const result = await benchImap(
      quick ? { sessions: 100, deliveries: 100, memorySessions: 1000, fetchMessages: 50 } : {},
    );
    console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  }
}
