/**
 * HTTP benchmarks:
 * - POST /new over HTTPS (keep-alive connections, rate limit off): requests per second;
 * - push notifications per second to a notification-proxy stand-in on loopback
 *   (one token per address, each delivery event a distinct address, durable queue).
 * Run directly: `npx tsx bench/http.ts [seconds] [connections] [notifications]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { Agent, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { AccountService } from "../src/accounts/accounts.ts";
import { testConfig } from "../src/config/load.ts";
import { LocalEventBus } from "../src/events/bus.ts";
import { HttpService } from "../src/http/server.ts";
import { silentLogger } from "../src/log.ts";
import { PushNotifier } from "../src/push/notifier.ts";
import { openStore } from "../src/store/open.ts";
import { selfSignedCertificate } from "../src/tls/selfsigned.ts";

export interface HttpBenchOptions {
  /** Seconds of /new requests. */
  seconds?: number;
  /** Concurrent keep-alive HTTPS connections for /new. */
  connections?: number;
  /** Push notifications to send. */
  notifications?: number;
}

async function benchNew(seconds: number, connections: number) {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-bench-http-"));
  const config = testConfig({ data_dir: dir, nocreate_file: join(dir, "nocreate"), max_load_1m: 1e9 });
  const store = await openStore(dir);
  const accounts = new AccountService({ config, store, log: silentLogger });
  const none = { handleTlsSocket: () => undefined };
  const service = new HttpService({
    config,
    accounts,
    delivery: { accept: async () => ({ code: 250, text: "OK" }) },
    log: silentLogger,
    tls: await selfSignedCertificate(["_chatrelay.test"]),
    imap: none,
    smtp: none,
    newRateLimit: null,
  });
  const server = await service.listenHttps(0, "127.0.0.1");
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: connections, rejectUnauthorized: false });
  const post = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/new",
          agent,
          headers: { Host: "_chatrelay.test" },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
  let ok = 0;
  let other = 0;
  const latencies: number[] = [];
  try {
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          if ((await post()) === 200) ok++;
          else other++;
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => Math.round((latencies[Math.floor(latencies.length * p)] ?? 0) * 100) / 100;
    return {
      connections,
      requests: ok,
      errors: other,
      newPerSecond: Math.round(ok / elapsed),
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
    };
  } finally {
    agent.destroy();
    await service.close();
    await new Promise((r) => server.close(r));
    await accounts.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchPush(notifications: number) {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-bench-push-"));
  let received = 0;
  const proxy = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/notify`;
  const store = await openStore(dir);
  const bus = new LocalEventBus();
  const notifier = new PushNotifier({
    config: testConfig({ data_dir: dir, push_url: url }),
    store,
    bus,
    log: silentLogger,
  });
  try {
    const now = Math.floor(Date.now() / 1000);
    const addresses: string[] = [];
    for (let i = 0; i < notifications; i++) addresses.push(`u${String(i).padStart(8, "0")}@_chatrelay.test`);
    await Promise.all(
      addresses.map(async (address, i) => {
        await store.createAccount(address, "x", now);
        await store.setDeviceToken(address, `openpgp:${Buffer.alloc(600, i % 251).toString("base64")}`, now);
      }),
    );
    await notifier.start();
    const start = performance.now();
    for (const address of addresses)
      bus.publish({ kind: "exists", address, mailboxId: 1, records: [], sender: "sender@example.org" });
    await notifier.settle();
    const elapsed = (performance.now() - start) / 1000;
    const left = (await store.listJobs("push")).length;
    return { notifications, received, left, pushPerSecond: Math.round(received / elapsed) };
  } finally {
    await notifier.stop();
    await store.close();
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchHttp(opts: HttpBenchOptions = {}): Promise<Record<string, unknown>> {
  const n = await benchNew(opts.seconds ?? 3, opts.connections ?? 16);
  const p = await benchPush(opts.notifications ?? 2000);
  return {
    newPerSecond: n.newPerSecond,
    newP50Ms: n.p50Ms,
    newP99Ms: n.p99Ms,
    newConnections: n.connections,
    newErrors: n.errors,
    pushPerSecond: p.pushPerSecond,
    pushNotifications: p.notifications,
    pushReceived: p.received,
    pushLeftInQueue: p.left,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  const connections = Number(process.argv[3] ?? 16);
  const notifications = Number(process.argv[4] ?? 2000);
  console.log(
    `http: POST /new for ${seconds} s on ${connections} connections; ${notifications} push notifications`,
  );
  console.table(await benchHttp({ seconds, connections, notifications }));
}
