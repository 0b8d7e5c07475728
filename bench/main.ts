/**
 * `npm run bench -- [scenario ...] [--flags]`: runs the benchmarks, prints a
 * table and writes the JSON to bench/results/<timestamp>.json. Without a
 * --imap-host, chatrelay is started in a child process with pre-created
 * accounts; with one, the same load runs against any IMAP/SMTP server.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FlagError, type Flags, parseFlags, usage } from "./flags.ts";
import { summarizeProfile } from "./load/cpuprofile.ts";
import { machineBusySeconds } from "./load/procmem.ts";
import { round1 } from "./load/stats.ts";
import { formatTable, type Results, writeJson } from "./report.ts";
import { deltachat } from "./scenarios/deltachat.ts";
import { federation } from "./scenarios/federation.ts";
import { greeting } from "./scenarios/greeting.ts";
import { latency, type MeasureHooks } from "./scenarios/latency.ts";
import { login } from "./scenarios/login.ts";
import { memory } from "./scenarios/memory.ts";
import { throughput } from "./scenarios/throughput.ts";
import { openTarget, RESULTS_DIR, type Target } from "./target/target.ts";

export const SCENARIOS = [
  "latency",
  "throughput",
  "memory",
  "login",
  "greeting",
  "deltachat",
  "federation",
  "federation-throughput",
  "store",
  "imap",
  "http",
  "dkim-sign",
  "startup",
];
const ON_TARGET = new Set(["latency", "throughput", "memory", "login", "greeting", "deltachat"]);
/** Sub-benchmarks in their own files: name → [file, exported function]. */
const SUB: Record<string, [string, string]> = {
  store: ["store.ts", "benchStore"],
  imap: ["imap.ts", "benchImap"],
  http: ["http.ts", "benchHttp"],
  "dkim-sign": ["dkim-sign.ts", "benchDkimSign"],
  startup: ["startup.ts", "benchStartup"],
  "federation-throughput": ["federation.ts", "benchFederation"],
};

async function runSub(name: string, flags: Flags): Promise<unknown> {
  const [file, fn] = SUB[name]!;
  const path = join(import.meta.dirname, file);
  if (!existsSync(path)) return { skipped: `bench/${file} is not there` };
  const mod = (await import(pathToFileURL(path).href)) as Record<string, (o: unknown) => Promise<unknown>>;
  if (typeof mod[fn] !== "function") return { skipped: `bench/${file} exports no ${fn}` };
  return mod[fn]!({ seconds: flags.seconds, writers: flags.writers.split(",").map(Number) });
}

export async function runScenario(
  name: string,
  flags: Flags,
  given: Set<string>,
  target?: Target,
  hooks?: MeasureHooks,
): Promise<unknown> {
  const receivers = (def: number) => (given.has("receivers") ? flags.receivers : def);
  switch (name) {
    case "latency":
      return latency(
        target!,
        {
          receivers: receivers(1000),
          senders: flags["latency-senders"],
          messages: flags["latency-messages"],
          warmup: flags.warmup,
          size: flags.size,
          existsTimeoutMs: flags["exists-timeout"],
          seed: flags.seed,
        },
        hooks,
      );
    case "throughput":
      return throughput(
        target!,
        {
          receivers: receivers(50),
          senders: flags.senders,
          messages: flags["throughput-messages"],
          size: flags.size,
          lateMs: flags["late-ms"],
          drainTimeoutMs: flags["drain-timeout"],
          seed: flags.seed,
        },
        hooks,
      );
    case "memory":
      return memory(target!, {
        sessions: flags.sessions,
        offset: flags["sessions-offset"],
        concurrency: flags["setup-concurrency"],
        settleS: flags.settle,
        cycles: flags.cycles,
      });
    case "login":
      return login(target!, { count: flags.logins, offset: flags["login-offset"] });
    case "greeting":
      return greeting(target!, { count: flags.greetings });
    case "deltachat":
      return deltachat(target!, {
        rounds: flags.rounds,
        burst: flags.burst,
        bursts: flags.bursts,
        bot: flags.bot,
        offset: flags["deltachat-offset"],
      });
    case "federation":
      return federation({
        receivers: receivers(50),
        senders: flags["latency-senders"],
        messages: Math.min(flags["latency-messages"], 300),
        size: flags.size,
        existsTimeoutMs: flags["exists-timeout"],
        seed: flags.seed,
      });
    default:
      return runSub(name, flags);
  }
}

export function environment() {
  return {
    hostname: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    kernel: os.release(),
    loadavgAtStart: os.loadavg(),
  };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(process.argv.slice(2));
  } catch (e) {
    if (e instanceof FlagError) {
      console.error(`${e.message}\n\n${usage(SCENARIOS)}`);
      return 2;
    }
    throw e;
  }
  const { flags, given, help } = parsed;
  if (help) {
    console.log(usage(SCENARIOS));
    return 0;
  }
  const names = parsed.scenarios.length ? parsed.scenarios : SCENARIOS;
  const unknown = names.filter((n) => !SCENARIOS.includes(n));
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(", ")}\n\n${usage(SCENARIOS)}`);
    return 2;
  }
  const startedAt = new Date().toISOString();
  const results: Results = { tool: "chatrelay bench", startedAt, env: environment(), flags, scenarios: {} };
  const scenarios = results.scenarios as Record<string, unknown>;
  let target: Target | undefined;
  let failed = false;
  try {
    for (const name of names) {
      console.log(`-- ${name}`);
      const wall0 = performance.now();
      const busy0 = machineBusySeconds();
      try {
        if (ON_TARGET.has(name) && !target) {
          target = await openTarget(flags);
          results.target = target.describe;
          console.log(`   target: ${target.describe}`);
        }
        const child = flags["cpu-prof"] && ON_TARGET.has(name) ? target?.child : undefined;
        const path = join(RESULTS_DIR, "profiles", `${startedAt.replace(/[:.]/g, "-")}-${name}.cpuprofile`);
        // latency and throughput profile only their measured part, the others all of it
        const measured = name === "latency" || name === "throughput";
        const hooks = child && {
          measureStart: () => child.profileStart(),
          measureEnd: () => child.profileStop(path),
        };
        if (child && !measured) child.profileStart();
        scenarios[name] = await runScenario(
          name,
          flags,
          given as Set<string>,
          target,
          measured ? hooks : undefined,
        );
        if (child) {
          if (!measured) await child.profileStop(path);
          const summary = summarizeProfile(path, 12);
          (scenarios[name] as Record<string, unknown>).profile = { path, ...summary };
          console.log(
            `   relay CPU profile: ${path}\n   ${summary.idleShare}% idle; self time of the busy part:`,
          );
          for (const r of summary.rows)
            console.log(`   ${String(r.selfMs).padStart(7)} ms ${String(r.share).padStart(5)}%  ${r.fn}`);
        }
      } catch (e) {
        failed = true;
        scenarios[name] = { error: String((e as Error)?.stack ?? e) };
        console.error(`   ${name} failed: ${(e as Error)?.message ?? e}`);
      }
      const cpu = {
        wallS: round1((performance.now() - wall0) / 1000),
        machineBusyCpuS: round1(machineBusySeconds() - busy0),
      };
      const r = scenarios[name];
      if (r && typeof r === "object") (r as Record<string, unknown>).cpu = cpu;
      console.log(`   done in ${cpu.wallS} s (machine busy ${cpu.machineBusyCpuS} CPU-s)`);
    }
  } finally {
    await target?.close();
  }
  results.finishedAt = new Date().toISOString();
  const out = flags.out || join(RESULTS_DIR, `${startedAt.replace(/[:.]/g, "-")}.json`);
  writeJson(out, results);
  console.log(`\n${formatTable(results)}\n\nJSON: ${out}`);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
