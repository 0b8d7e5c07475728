/**
 * `npm run bench:compare`: chatrelay side by side with the classic stack
 * (Debian's Postfix + Dovecot configured as a chatmail-like relay on
 * loopback, bench/baseline/). Both are up at once; every scenario runs
 * against each in turn, alternating which goes first, `--reps` times,
 * because the machine is noisy; the table shows medians and ratios.
 *
 * Needs root the first time (apt-get install postfix dovecot, see
 * bench/baseline/setup.sh). A manual benchmark, not part of `npm test`.
 * Flags: those of `npm run bench` plus --reps N and --keep-baseline.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlagError, type Flags, parseFlags, usage } from "./flags.ts";
import { round1 } from "./load/stats.ts";
import { environment, runScenario } from "./main.ts";
import { writeJson } from "./report.ts";
import { openTarget, RESULTS_DIR, type Target } from "./target/target.ts";

const BASELINE = fileURLToPath(new URL("./baseline/", import.meta.url));
const DEFAULT = ["latency", "throughput", "login", "greeting", "memory", "deltachat"];
/** Processes of the classic stack whose memory is summed. */
const BASELINE_PROCS = [
  "dovecot",
  "imap",
  "imap-login",
  "auth",
  "anvil",
  "log",
  "config",
  "stats",
  "lmtp",
  "master",
  "smtpd",
  "cleanup",
  "qmgr",
  "trivial-rewrite",
  "tlsmgr",
  "proxymap",
  "pickup",
];

/** The numbers compared, with the direction that is better. */
const METRICS: Record<string, Array<{ label: string; path: string; better: "lower" | "higher" }>> = {
  latency: [
    { label: "submit → EXISTS p50 (ms)", path: "submitToExistsMs.p50", better: "lower" },
    { label: "submit → EXISTS p99 (ms)", path: "submitToExistsMs.p99", better: "lower" },
    { label: "lost notifications", path: "lost", better: "lower" },
  ],
  throughput: [
    { label: "msgs/s delivered", path: "msgsPerSec", better: "higher" },
    { label: "lost notifications", path: "lost", better: "lower" },
    { label: "late notifications", path: "late", better: "lower" },
  ],
  memory: [
    { label: "idle TLS IMAP sessions set up per second", path: "setupPerSec", better: "higher" },
    { label: "RSS KiB per idle session", path: "server.rssKiBPerSession", better: "lower" },
    { label: "PSS KiB per idle session", path: "server.pssKiBPerSession", better: "lower" },
    { label: "RSS after close vs start (%)", path: "server.rssAfterClosePct", better: "lower" },
  ],
  login: [
    { label: "TLS connect + LOGIN p50 (ms)", path: "connectPlusLoginMs.p50", better: "lower" },
    { label: "TLS connect + LOGIN p99 (ms)", path: "connectPlusLoginMs.p99", better: "lower" },
  ],
  greeting: [
    { label: "connect → 220 on submission p50 (ms)", path: "connectToGreetingMs.p50", better: "lower" },
    { label: "connect → 220 on submission p99 (ms)", path: "connectToGreetingMs.p99", better: "lower" },
  ],
  deltachat: [
    { label: "Delta Chat ping-pong p50 (ms)", path: "pingPongMs.p50", better: "lower" },
    { label: "Delta Chat send 10 / receive 10 p50 (ms)", path: "sendReceiveBurstMs.p50", better: "lower" },
  ],
};

const get = (o: unknown, path: string): number | undefined => {
  const v = path
    .split(".")
    .reduce<unknown>(
      (x, k) => (x && typeof x === "object" ? (x as Record<string, unknown>)[k] : undefined),
      o,
    );
  return typeof v === "number" ? v : undefined;
};

function sh(script: string, args: string[] = []): void {
  const r = spawnSync("bash", [join(BASELINE, script), ...args], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`bench/baseline/${script} failed (${r.status})`);
}

/** Installed, with at least `users` accounts in its passwd-file. */
function baselineInstalled(users: number): boolean {
  try {
    execFileSync("dpkg", ["-s", "postfix", "dovecot-imapd", "dovecot-lmtpd"], { stdio: "ignore" });
    return readFileSync("/etc/dovecot/bench-users", "utf8").split("\n").filter(Boolean).length >= users;
  } catch {
    return false;
  }
}

/** The median (mean of the two middle values for an even count). */
function median(xs: number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return round1(s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let reps = 2;
  let keep = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--reps") reps = Number(argv[++i]);
    else if (argv[i] === "--keep-baseline") keep = true;
    else rest.push(argv[i]!);
  }
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(rest);
  } catch (e) {
    if (e instanceof FlagError) {
      console.error(`${e.message}\n\n${usage(DEFAULT)}\n  --reps N (2)  --keep-baseline`);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    console.log(
      `${usage(DEFAULT)}\n  --reps N  repetitions (2)\n  --keep-baseline  leave Postfix+Dovecot running`,
    );
    return 0;
  }
  const names = parsed.scenarios.length ? parsed.scenarios : DEFAULT;
  const flags: Flags = {
    ...parsed.flags,
    "imap-host": "",
    domain: "bench.test",
    "user-pattern": "u%05d",
    password: "benchpass",
  };
  if (!baselineInstalled(flags.accounts)) {
    console.log("installing the baseline (Postfix + Dovecot) with bench/baseline/setup.sh ...");
    sh("setup.sh", [String(flags.accounts)]);
  }
  sh("start.sh");
  const out =
    flags.out || join(RESULTS_DIR, `compare-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const targets: Target[] = [];
  const results: Record<string, Record<string, unknown[]>> = { chatrelay: {}, baseline: {} };
  try {
    targets.push(await openTarget({ ...flags, target: "chatrelay" }));
    targets.push(
      await openTarget({
        ...flags,
        target: "baseline",
        "imap-host": "127.0.0.1",
        "imap-port": 993,
        "smtp-port": 465,
        "server-procs": BASELINE_PROCS.join(","),
      }),
    );
    for (let rep = 0; rep < reps; rep++) {
      for (const name of names) {
        const order = rep % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          console.log(`-- rep ${rep + 1}/${reps}: ${name} against ${t.name}`);
          let r: unknown;
          try {
            // fresh accounts for every login run: chatrelay remembers verified passwords, Dovecot (no auth cache) does not
            const f =
              name === "login"
                ? { ...flags, "login-offset": flags["login-offset"] + rep * flags.logins }
                : flags;
            r = await runScenario(name, f, parsed.given as Set<string>, t);
          } catch (e) {
            r = { error: String((e as Error)?.message ?? e) };
            console.error(`   failed: ${(r as { error: string }).error}`);
          }
          (results[t.name]![name] ??= []).push(r);
          // partial results survive an interrupted run
          writeJson(out, {
            tool: "chatrelay bench:compare",
            env: environment(),
            reps,
            flags,
            partial: true,
            runs: results,
          });
          // let the server settle between runs
          await new Promise((res) => setTimeout(res, 3000));
        }
      }
    }
  } finally {
    for (const t of targets) await t.close();
    if (!keep) sh("stop.sh");
  }
  const lines = [
    `${"metric".padEnd(44)} ${"chatrelay".padStart(10)} ${"Postfix+Dovecot".padStart(16)} ${"ratio".padStart(8)}`,
  ];
  const table: Array<Record<string, unknown>> = [];
  for (const name of names) {
    for (const m of METRICS[name] ?? []) {
      const vals = (t: string) =>
        (results[t]![name] ?? []).map((r) => get(r, m.path)).filter((x): x is number => x !== undefined);
      const c = median(vals("chatrelay"));
      const b = median(vals("baseline"));
      // ratio > 1: chatrelay is better by that factor
      const ratio =
        c === undefined || b === undefined || c === 0 || b === 0
          ? undefined
          : m.better === "higher"
            ? c / b
            : b / c;
      table.push({
        scenario: name,
        metric: m.label,
        chatrelay: c,
        baseline: b,
        advantage: ratio && round1(ratio * 10) / 10,
      });
      lines.push(
        `${m.label.padEnd(44)} ${String(c ?? "n/a").padStart(10)} ${String(b ?? "n/a").padStart(16)} ${(ratio === undefined ? "" : `${(Math.round(ratio * 100) / 100).toFixed(2)}x`).padStart(8)}`,
      );
    }
  }
  writeJson(out, { tool: "chatrelay bench:compare", env: environment(), reps, flags, table, runs: results });
  console.log(`\nmedians over ${reps} alternating runs; ratio = how many times better chatrelay is\n`);
  console.log(lines.join("\n"));
  console.log(`\nJSON: ${out}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
