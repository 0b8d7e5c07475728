/**
 * Command-line flags of `npm run bench`: `--name value`, `--name=value`,
 * `--flag` / `--no-flag` for booleans. Every flag can also come from the
 * environment as BENCH_<NAME> (dashes as underscores); flags win.
 */

type Kind = "string" | "number" | "boolean";

interface Spec {
  kind: Kind;
  def: string | number | boolean;
  help: string;
}

const s = (def: string, help: string) => ({ kind: "string" as const, def, help });
const n = (def: number, help: string) => ({ kind: "number" as const, def, help });
const b = (def: boolean, help: string) => ({ kind: "boolean" as const, def, help });

export const OPTIONS = {
  // --- target ---
  target: s("", 'label of the target; default "chatrelay" (started here) or "external"'),
  "imap-host": s("", "IMAP host of an external target (unset: start chatrelay in a child process)"),
  "imap-port": n(993, "IMAP port of an external target"),
  "smtp-host": s("", "SMTP submission host of an external target (default: --imap-host)"),
  "smtp-port": n(465, "SMTP submission port of an external target"),
  tls: s("implicit", "implicit | starttls | none, for both IMAP and SMTP"),
  "imap-tls": s("", "overrides --tls for IMAP"),
  "smtp-tls": s("", "overrides --tls for SMTP"),
  servername: s("", "TLS SNI name (default: --domain)"),
  "verify-tls": b(false, "verify certificates (default: accept self-signed)"),
  domain: s("bench.test", "mail domain of the accounts"),
  "user-pattern": s("u%05d", "local part pattern; %0Nd is the account number"),
  "user-start": n(1, "first account number"),
  password: s("benchpass", "password of every pattern account"),
  "accounts-file": s("", 'file with one "address password" per line (instead of the pattern)'),
  "server-pids": s("", "external target: comma list of server PIDs whose memory is summed"),
  "server-procs": s(
    "",
    "external target: comma list of process names (/proc/PID/comm) whose memory is summed",
  ),
  "cpu-prof": b(false, "CPU-profile the chatrelay child during each scenario (bench/results/profiles/)"),
  accounts: n(13_000, "accounts pre-created in the chatrelay child"),
  "relay-preload": s("", "LD_PRELOAD of the chatrelay child (e.g. an allocator: libjemalloc.so.2)"),
  "relay-node-flags": s("", "extra Node/V8 flags of the chatrelay child, space-separated"),
  "relay-dist": s(
    "",
    "run the chatrelay child from compiled JavaScript in this folder (npx tsc -p tsconfig.build.json --outDir DIR)",
  ),
  // --- (a) latency ---
  receivers: n(0, "receivers in IDLE (default: 1000 for latency, 50 for throughput)"),
  "latency-senders": n(4, "closed-loop senders in the latency scenario"),
  "latency-messages": n(1000, "messages measured in the latency scenario"),
  warmup: n(20, "unmeasured warm-up messages"),
  "exists-timeout": n(30_000, "ms without EXISTS before a message counts as lost"),
  // --- (b) throughput ---
  senders: n(8, "concurrent senders in the throughput scenario"),
  "throughput-messages": n(2000, "messages in the throughput scenario"),
  size: n(4096, "message size in bytes"),
  "late-ms": n(1000, "an EXISTS later than this after the 250 counts as late"),
  "drain-timeout": n(60_000, "ms without progress before the throughput scenario gives up"),
  // --- (c) memory ---
  sessions: n(10_000, "idle logged-in TLS IMAP sessions in the memory scenario"),
  "sessions-offset": n(2000, "index of the first account used by the memory scenario"),
  "setup-concurrency": n(100, "parallel connection setups"),
  settle: n(5, "seconds to wait before sampling memory"),
  cycles: n(1, "connect/close cycles in the memory scenario (RSS after each close)"),
  // --- (d) login ---
  logins: n(200, "sequential TLS connect + LOGIN"),
  greetings: n(200, "sequential connects to the submission port until its 220"),
  "login-offset": n(12_000, "index of the first account used by the login scenario"),
  // --- (e) deltachat ---
  rounds: n(20, "ping-pong round trips"),
  burst: n(10, "messages per burst in send-N-receive-N"),
  bursts: n(5, "bursts in send-N-receive-N"),
  "deltachat-offset": n(12_900, "index of the first of the two Delta Chat accounts"),
  bot: b(true, "mark the Delta Chat accounts as bots (no client-side send rate limit)"),
  // --- store (bench/store.ts) ---
  seconds: n(3, "seconds per store run"),
  writers: s("1,32", "concurrent writers per store run"),
  // --- output ---
  out: s("", "JSON output path (default bench/results/<timestamp>.json)"),
  seed: n(1, "seed of the receiver choice"),
} satisfies Record<string, Spec>;

export type FlagName = keyof typeof OPTIONS;
export type Flags = {
  [K in FlagName]: (typeof OPTIONS)[K]["kind"] extends "number"
    ? number
    : (typeof OPTIONS)[K]["kind"] extends "boolean"
      ? boolean
      : string;
};

export function usage(names: readonly string[]): string {
  const lines = [
    "Usage: npm run bench -- [scenario ...] [--flag value ...]",
    `Scenarios: ${names.join(", ")} (default: all)`,
    "",
  ];
  for (const [k, o] of Object.entries(OPTIONS) as [string, Spec][]) {
    lines.push(`  --${k.padEnd(22)} ${String(o.def).padEnd(12)} ${o.help}`);
  }
  return lines.join("\n");
}

export class FlagError extends Error {}

/** Parses argv into the scenario names and the flags. Throws FlagError. */
export function parseFlags(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { scenarios: string[]; flags: Flags; given: Set<FlagName>; help: boolean } {
  const out: Record<string, unknown> = {};
  const given = new Set<FlagName>();
  const specs = OPTIONS as Record<string, Spec>;
  for (const [k, o] of Object.entries(specs)) {
    const e = env[`BENCH_${k.toUpperCase().replace(/-/g, "_")}`];
    out[k] = e !== undefined && e !== "" ? convert(k, o, e) : o.def;
    if (e !== undefined && e !== "") given.add(k as FlagName);
  }
  const scenarios: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") {
      help = true;
      continue;
    }
    if (!a.startsWith("--")) {
      scenarios.push(a);
      continue;
    }
    let key = a.slice(2);
    let val: string | undefined;
    const eq = key.indexOf("=");
    if (eq >= 0) {
      val = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    if (key.startsWith("no-") && specs[key.slice(3)]?.kind === "boolean") {
      out[key.slice(3)] = false;
      given.add(key.slice(3) as FlagName);
      continue;
    }
    const spec = specs[key];
    if (!spec) throw new FlagError(`unknown option --${key}`);
    if (spec.kind === "boolean" && val === undefined) {
      out[key] = true;
    } else {
      if (val === undefined) val = argv[++i];
      if (val === undefined) throw new FlagError(`--${key} needs a value`);
      out[key] = convert(key, spec, val);
    }
    given.add(key as FlagName);
  }
  const flags = out as Flags;
  for (const m of [flags.tls, flags["imap-tls"], flags["smtp-tls"]]) {
    if (m && !["implicit", "starttls", "none"].includes(m))
      throw new FlagError(`TLS mode must be implicit|starttls|none, not ${m}`);
  }
  return { scenarios, flags, given, help };
}

function convert(key: string, spec: Spec, value: string): string | number | boolean {
  if (spec.kind === "number") {
    const v = Number(value);
    if (!Number.isFinite(v)) throw new FlagError(`--${key} needs a number, not ${value}`);
    return v;
  }
  if (spec.kind === "boolean") return !/^(0|false|no|off)$/i.test(value);
  return value;
}
