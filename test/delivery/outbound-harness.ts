/**
 * An OutboundQueue on its own for tests: a real store in a temp folder, a DNS
 * answer table instead of a resolver, and real servers on loopback for the
 * remote side (an HTTPS server of any behaviour, an SMTP receiver with
 * STARTTLS, a TCP port that only counts connections).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import type { FailedRecipient } from "../../src/delivery/bounce.ts";
import { OUTBOUND_QUEUE, OutboundQueue } from "../../src/delivery/outbound/queue.ts";
import { DnsError, type DnsResolver, type MxRecord } from "../../src/dns/resolver.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/types.ts";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";

export interface Records {
  MX?: MxRecord[];
  A?: string[];
  AAAA?: string[];
}

/** A DnsResolver answering from a table; unknown names do not exist. */
export function tableResolver(zone: Record<string, Records>): DnsResolver {
  const get = (name: string, type: keyof Records) => {
    const r = zone[name.toLowerCase()];
    if (!r) throw new DnsError("nxdomain", "ENOTFOUND", name, type);
    const v = r[type];
    if (!v?.length) throw new DnsError("nodata", "ENODATA", name, type);
    return v;
  };
  return {
    resolveMx: async (n) => get(n, "MX") as MxRecord[],
    resolveTxt: async (n) => {
      throw new DnsError("nodata", "ENODATA", n, "TXT");
    },
    resolve4: async (n) => get(n, "A") as string[],
    resolve6: async (n) => get(n, "AAAA") as string[],
  };
}

export interface TestQueue {
  queue: OutboundQueue;
  store: Store;
  config: Config;
  failed: Array<{ mailFrom: string; failed: FailedRecipient[] }>;
  /** Queues `message` from alice to `to` (the queue starts on it at once). */
  send(to: string[], message?: Buffer): Promise<void>;
  jobs(): Promise<number>;
  close(): Promise<void>;
}

export const ALICE = "alice1234@_origin.test";
export const MESSAGE = Buffer.from(
  `From: ${ALICE}\r\nTo: someone\r\nMessage-ID: <m1@_origin.test>\r\nSubject: [...]\r\n\r\nhello\r\n`,
);

export async function startQueue(
  overrides: Partial<Config>,
  dns: DnsResolver,
  opts: { now?: () => number; random?: () => number } = {},
): Promise<TestQueue> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-outbound-"));
  const config = testConfig({ data_dir: dir, mail_domain: "_origin.test", ...overrides });
  const store = await openStore(dir);
  const failed: TestQueue["failed"] = [];
  const queue = new OutboundQueue({
    config,
    store,
    dns,
    log: silentLogger,
    timeoutMs: 3000,
    now: opts.now,
    random: opts.random,
    onFailed: async (mailFrom, _message, f) => void failed.push({ mailFrom, failed: f }),
  });
  queue.start();
  return {
    queue,
    store,
    config,
    failed,
    send: (to, message = MESSAGE) => queue.enqueue({ mailFrom: ALICE, recipients: to }, message),
    jobs: async () => (await store.listJobs(OUTBOUND_QUEUE)).length,
    async close() {
      await queue.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: net.Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

/** A TCP port that counts connections and hangs up at once. */
export async function countingPort(host = "127.0.0.1") {
  const state = { connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    s.destroy();
  });
  const port = await listen(server, host);
  return { port, state, close: () => close(server) };
}

/** An HTTPS server (self-signed) whose behaviour the test sets; counts requests. */
export async function fakeHttps(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = "127.0.0.1",
  port = 0,
): Promise<{ port: number; state: { requests: number }; close(): Promise<void>; server: HttpsServer }> {
  const { key, cert } = await selfSignedCertificate(["localhost"]);
  const state = { requests: 0 };
  const server = createHttpsServer({ key, cert }, (req, res) => {
    state.requests++;
    req.resume();
    req.on("end", () => handler(req, res));
  });
  const bound = await listen(server, host, port);
  return {
    port: bound,
    state,
    server,
    close: async () => {
      server.closeAllConnections();
      await close(server);
    },
  };
}

/** An SMTP receiver with STARTTLS (self-signed) that keeps what it gets. */
export async function smtpReceiver(host = "127.0.0.1", port = 0) {
  const { key, cert } = await selfSignedCertificate(["localhost"]);
  const received: Array<{ from: string; to: string[]; data: string }> = [];
  const server = new SMTPServer({
    key,
    cert,
    authOptional: true,
    disabledCommands: ["AUTH"],
    lenientAddressParsing: true, // "_" domains, as chatmail test deployments use
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString(),
        });
        callback();
      });
    },
  });
  server.on("error", () => {});
  const bound = await listen(server.server as net.Server, host, port);
  return { port: bound, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}
