/**
 * `chatrelay status [--config FILE] [--json]`: what an operator checks first.
 * Listeners (a TCP connect to each configured port tells whether the relay
 * runs), the certificate's names and expiry, accounts, messages and bytes
 * stored, the outbound queue and the push backlog, and the host's headroom
 * against the account-creation limits. The store is read through a read-only
 * SQLite connection, so it works beside a running relay and with it stopped.
 * Exit status 0 when all is well, 1 when something needs attention.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import net from "node:net";
import { loadavg } from "node:os";
import { dirname } from "node:path";
import { availableMemory } from "../accounts/admission.ts";
import { embeddedConfig, loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { OUTBOUND_QUEUE } from "../delivery/outbound/queue.ts";
import { PUSH_QUEUE } from "../push/notifier.ts";
import { readStoreStats } from "../store/stats.ts";
import { certificatePath } from "../tls/material.ts";

/** A certificate that expires sooner needs attention (renewal runs well before). */
export const EXPIRY_WARNING_DAYS = 14;
const DAY = 86_400_000;

const LISTENERS = [
  ["smtp", "smtp_port"],
  ["submission", "submission_port"],
  ["submissions", "submissions_port"],
  ["imap", "imap_port"],
  ["imaps", "imaps_port"],
  ["https", "https_port"],
  ["http", "http_port"],
] as const;

export interface ListenerStatus {
  name: string;
  address: string;
  port: number;
  /** undefined: not probed (an ephemeral port 0). */
  listening?: boolean;
}

export interface CertificateStatus {
  path: string;
  names: string[];
  notAfter?: string;
  daysLeft?: number;
  error?: string;
}

export interface QueueStatus {
  count: number;
  oldestAgeSeconds?: number;
}

export interface Headroom {
  value: number;
  limit: number;
  /** value minus limit for floors (disk, memory), limit minus value for the load ceiling. */
  headroom: number;
}

export interface StatusReport {
  domain: string;
  config: string;
  dataDir: string;
  /** undefined when no listener could be probed. */
  running?: boolean;
  listeners: ListenerStatus[];
  certificate: CertificateStatus;
  store?: { accounts: number; messages: number; messageBytes: number };
  outbound: QueueStatus;
  push: QueueStatus;
  accountCreation: {
    switchedOff: boolean;
    disk?: Headroom;
    memory: Headroom;
    load1m: Headroom;
  };
  attention: string[];
}

/** A host a local client can connect to for a listen address (wildcards → loopback). */
function probeHost(listen: string): string {
  if (listen === "" || listen === "0.0.0.0") return "127.0.0.1";
  if (listen === "::") return "::1";
  return listen;
}

function probe(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** SAN entries as "DNS:x" / "IP Address:y" become plain names. */
function sanNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? "")
    .split(",")
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ""))
    .filter(Boolean);
}

export function certificateStatus(config: Config, now: number): CertificateStatus {
  const path = certificatePath(config);
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    const error =
      missing && config.tls_mode === "acme"
        ? "no certificate yet (the ACME client obtains one while the relay runs)"
        : missing && config.tls_mode === "self"
          ? "not made yet (the relay makes it on its first start)"
          : `cannot read: ${(e as Error).message}`;
    return { path, names: [], error };
  }
  try {
    // the first certificate of a chain is the relay's own
    const leaf = new X509Certificate(pem);
    const notAfter = new Date(leaf.validTo);
    return {
      path,
      names: sanNames(leaf),
      notAfter: notAfter.toISOString(),
      daysLeft: Math.floor((notAfter.getTime() - now) / DAY),
    };
  } catch (e) {
    return { path, names: [], error: `not a certificate: ${(e as Error).message}` };
  }
}

function queueStatus(q: { count: number; oldestCreatedAt?: number } | undefined, now: number): QueueStatus {
  if (!q || q.count === 0) return { count: 0 };
  const age =
    q.oldestCreatedAt === undefined ? undefined : Math.max(0, Math.round((now - q.oldestCreatedAt) / 1000));
  return { count: q.count, oldestAgeSeconds: age };
}

export async function collectStatus(config: Config, now = Date.now()): Promise<StatusReport> {
  const attention: string[] = [];
  const host = probeHost(config.listen_address);
  const listeners: ListenerStatus[] = await Promise.all(
    LISTENERS.filter(([, key]) => config[key] >= 0).map(async ([name, key]) => {
      const port = config[key];
      const s: ListenerStatus = { name, address: config.listen_address, port };
      if (port > 0) s.listening = await probe(host, port);
      return s;
    }),
  );
  const probed = listeners.filter((l) => l.listening !== undefined);
  const running = probed.length === 0 ? undefined : probed.some((l) => l.listening);
  if (running === false) attention.push("the relay is not running (no listener answers)");
  else if (running) {
    const down = probed.filter((l) => !l.listening).map((l) => `${l.name} ${l.port}`);
    if (down.length) attention.push(`not listening: ${down.join(", ")}`);
  }

  const certificate = certificateStatus(config, now);
  if (certificate.error) attention.push(`certificate ${certificate.path}: ${certificate.error}`);
  else if (certificate.daysLeft !== undefined && certificate.daysLeft < EXPIRY_WARNING_DAYS)
    attention.push(`the certificate expires in ${certificate.daysLeft} days (${certificate.notAfter})`);

  const stats = readStoreStats(config.data_dir);
  if (!stats) attention.push(`no store in ${config.data_dir} (the relay has never run there)`);

  let disk: Headroom | undefined;
  try {
    // before the first start: the file system the data dir will be made on
    let dir = config.data_dir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    disk = { value: free, limit: config.min_free_disk_space, headroom: free - config.min_free_disk_space };
    if (disk.headroom < 0) attention.push("free disk space is below min_free_disk_space: no new accounts");
  } catch (e) {
    attention.push(`cannot determine free disk space of ${config.data_dir}: ${(e as Error).message}`);
  }
  const mem = await availableMemory();
  const memory = {
    value: mem,
    limit: config.min_available_memory,
    headroom: mem - config.min_available_memory,
  };
  if (memory.headroom < 0) attention.push("available memory is below min_available_memory: no new accounts");
  // the load is a one-minute figure: shown, not judged
  const load = loadavg()[0] ?? 0;
  const load1m = { value: load, limit: config.max_load_1m, headroom: config.max_load_1m - load };

  return {
    domain: config.mail_domain,
    config: config.source,
    dataDir: config.data_dir,
    running,
    listeners,
    certificate,
    store: stats && { accounts: stats.accounts, messages: stats.messages, messageBytes: stats.messageBytes },
    outbound: queueStatus(stats?.queues[OUTBOUND_QUEUE], now),
    push: queueStatus(stats?.queues[PUSH_QUEUE], now),
    accountCreation: {
      switchedOff: config.nocreate_file !== "" && existsSync(config.nocreate_file),
      disk,
      memory,
      load1m,
    },
    attention,
  };
}

function bytes(n: number): string {
  const sign = n < 0 ? "-" : "";
  const a = Math.abs(n);
  for (const [unit, f] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const)
    if (a >= f) return `${sign}${(a / f).toFixed(1)} ${unit}`;
  return `${sign}${a} bytes`;
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

function queueLine(label: string, q: QueueStatus): string {
  const oldest = q.oldestAgeSeconds === undefined ? "" : `, oldest queued ${age(q.oldestAgeSeconds)} ago`;
  return `${label}: ${q.count}${oldest}`;
}

export function formatStatus(r: StatusReport): string {
  const lines = [`chatrelay ${r.domain} (${r.config}), data in ${r.dataDir}`];
  lines.push(
    `relay: ${r.running === undefined ? "unknown (no fixed port to probe)" : r.running ? "running" : "not running"}`,
  );
  lines.push("listeners:");
  for (const l of r.listeners) {
    const state =
      l.listening === undefined ? "ephemeral port, not probed" : l.listening ? "listening" : "not listening";
    lines.push(`  ${l.name.padEnd(12)} ${l.address}:${l.port}  ${state}`);
  }
  const c = r.certificate;
  lines.push(`certificate: ${c.path}`);
  if (c.error) lines.push(`  ${c.error}`);
  else {
    lines.push(`  names: ${c.names.join(", ")}`);
    lines.push(`  expires: ${c.notAfter} (in ${c.daysLeft} days)`);
  }
  if (r.store) {
    const s = r.store;
    lines.push(`store: ${s.accounts} accounts, ${s.messages} messages, ${bytes(s.messageBytes)}`);
  } else lines.push("store: none yet");
  lines.push(queueLine("outbound queue", r.outbound));
  lines.push(queueLine("push backlog", r.push));
  const a = r.accountCreation;
  lines.push(
    `account creation: ${a.switchedOff ? "switched off (nocreate file)" : "on"}; headroom against the limits:`,
  );
  if (a.disk)
    lines.push(
      `  disk free    ${bytes(a.disk.value)}, min_free_disk_space ${bytes(a.disk.limit)}, headroom ${bytes(a.disk.headroom)}`,
    );
  lines.push(
    `  memory       ${bytes(a.memory.value)} available, min_available_memory ${bytes(a.memory.limit)}, headroom ${bytes(a.memory.headroom)}`,
  );
  lines.push(
    `  load (1 min) ${a.load1m.value.toFixed(2)}, max_load_1m ${a.load1m.limit}, headroom ${a.load1m.headroom.toFixed(2)}`,
  );
  if (r.attention.length === 0) lines.push("all well");
  else for (const line of r.attention) lines.push(`attention: ${line}`);
  return `${lines.join("\n")}\n`;
}

/** Without --config: ./chatmail.ini if there is one, else the embedded default of `npm start`. */
export async function runStatus(configPath: string | undefined, json: boolean): Promise<number> {
  const config =
    configPath !== undefined || existsSync("chatmail.ini")
      ? loadConfig(configPath ?? "chatmail.ini").config
      : embeddedConfig();
  const report = await collectStatus(config);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return report.attention.length === 0 ? 0 : 1;
}
