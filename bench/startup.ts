/**
 * Start-up time and memory of `chatrelay serve`, for the checkout run through
 * tsx (bin/chatrelay.js with src/ present) and for the packed install (`npm
 * pack`, then `npm install --omit=dev` of the tarball into a temporary prefix).
 * Each run starts the relay on ephemeral loopback ports and an empty data
 * folder (cold: it makes its certificate and DKIM key), stops it and starts it
 * again on that folder, as an operator's restart; it records the time from
 * spawn to the "listening" line of both, and for the restart the RSS of its
 * process tree (children included) right then, after `idle` seconds, right
 * after an IMAP login (which creates an account and starts the hash workers)
 * and, with --after-idle, once the hash workers have exited again.
 *
 *   npm run bench -- startup
 *   npx tsx bench/startup.ts [--runs 3] [--idle 10] [--root DIR] [--after-idle] [--only checkout|packed]
 *
 * --root measures another checkout (for a before/after comparison); its
 * node_modules must be installed.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { IDLE_MS } from "../src/accounts/hash-pool.ts";
import {
  ephemeralConfig,
  imapLogin,
  packAndInstall,
  ROOT,
  startServe,
  stop,
} from "../test/support/installed.ts";
import { processMemory } from "./load/procmem.ts";
import { sleep } from "./load/stats.ts";

export interface StartupOptions {
  runs?: number;
  idle?: number;
  root?: string;
  afterIdle?: boolean;
  /** Which runs: "checkout", "packed" or both (the default). */
  only?: "checkout" | "packed" | "";
}

interface Run {
  /** The first start on an empty data folder (makes the certificate, the DKIM key, the schema). */
  coldStartMs: number;
  /** A restart on that folder: the figures below are of this one. */
  startMs: number;
  rssListeningMiB: number;
  rssIdleMiB: number;
  rssAfterLoginMiB: number;
  rssWorkersGoneMiB?: number;
  processes: number;
}

/** The PID and every descendant of it. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

function treeRss(pid: number): { mib: number; processes: number } {
  let kb = 0;
  const pids = tree(pid);
  for (const p of pids) kb += processMemory(p)?.rssKb ?? 0;
  return { mib: Math.round(kb / 102.4) / 10, processes: pids.length };
}

async function measure(command: string, args: string[], o: Required<StartupOptions>): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-startup-"));
  try {
    const work = join(dir, "work");
    mkdirSync(work);
    const ini = ephemeralConfig(work, "_startup.test");
    const env = { ...process.env, NODE_OPTIONS: "" };
    const cold = await startServe(command, [...args, "serve", "--config", ini], work, env);
    await stop(cold.child);
    const s = await startServe(command, [...args, "serve", "--config", ini], work, env);
    const pid = s.child.pid!;
    try {
      const listening = treeRss(pid);
      await sleep(o.idle * 1000);
      const idle = treeRss(pid);
      const reply = await imapLogin(s.imapsPort, "startup01@_startup.test", "startup-password");
      if (!reply.startsWith("a1 OK")) throw new Error(`login failed: ${reply}`);
      await sleep(1000);
      const login = treeRss(pid);
      let gone: number | undefined;
      if (o.afterIdle) {
        await sleep(IDLE_MS + 2000);
        gone = treeRss(pid).mib;
      }
      return {
        coldStartMs: Math.round(cold.startMs),
        startMs: Math.round(s.startMs),
        rssListeningMiB: listening.mib,
        rssIdleMiB: idle.mib,
        rssAfterLoginMiB: login.mib,
        rssWorkersGoneMiB: gone,
        processes: idle.processes,
      };
    } finally {
      await stop(s.child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function summarize(runs: Run[]) {
  const keys = Object.keys(runs[0]!) as (keyof Run)[];
  const out: Record<string, number> = {};
  for (const k of keys) {
    const xs = runs.map((r) => r[k]).filter((x): x is number => x !== undefined);
    if (xs.length) out[k] = median(xs);
  }
  return { median: out, runs };
}

export async function benchStartup(opts: StartupOptions = {}) {
  const o: Required<StartupOptions> = {
    runs: opts.runs ?? 3,
    idle: opts.idle ?? 10,
    root: opts.root ?? ROOT,
    afterIdle: opts.afterIdle ?? false,
    only: opts.only ?? "",
  };
  const results: Record<string, unknown> = { idleSeconds: o.idle, root: o.root };
  if (o.only !== "packed") {
    const checkout: Run[] = [];
    for (let i = 0; i < o.runs; i++)
      checkout.push(await measure(process.execPath, [join(o.root, "bin", "chatrelay.js")], o));
    results.checkoutTsx = summarize(checkout);
    console.log("   checkout (tsx):", JSON.stringify(summarize(checkout).median));
  }
  if (o.only === "checkout") return results;

  const dir = mkdtempSync(join(tmpdir(), "chatrelay-startup-pack-"));
  try {
    const t0 = performance.now();
    const { bin } = await packAndInstall(dir, o.root);
    results.packAndInstallS = Math.round((performance.now() - t0) / 100) / 10;
    const packed: Run[] = [];
    for (let i = 0; i < o.runs; i++) packed.push(await measure(bin, [], o));
    results.packed = summarize(packed);
    console.log("   packed install:", JSON.stringify(summarize(packed).median));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string" },
      idle: { type: "string" },
      root: { type: "string" },
      "after-idle": { type: "boolean" },
      only: { type: "string" },
    },
  });
  const r = await benchStartup({
    runs: values.runs ? Number(values.runs) : undefined,
    idle: values.idle ? Number(values.idle) : undefined,
    root: values.root,
    afterIdle: values["after-idle"],
    only: values.only === "checkout" || values.only === "packed" ? values.only : "",
  });
  console.log(JSON.stringify(r, null, 2));
}
