/** The human-readable table of a benchmark run, and the JSON file. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { formatSummary, type Summary } from "./load/stats.ts";

export type Results = Record<string, unknown>;

interface Row {
  scenario: string;
  metric: string;
  value: string;
  goal?: string;
}

const get = (o: unknown, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>(
      (x, k) => (x && typeof x === "object" ? (x as Record<string, unknown>)[k] : undefined),
      o,
    );

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? "" : ok ? "met" : "MISSED";
}

function rows(results: Results): Row[] {
  const out: Row[] = [];
  const sc = results.scenarios as Record<string, unknown>;
  const push = (scenario: string, metric: string, value: unknown, goal?: string) =>
    out.push({
      scenario,
      metric,
      value: value === undefined || value === null ? "n/a" : String(value),
      goal,
    });
  for (const [name, r] of Object.entries(sc)) {
    if (r && typeof r === "object" && "error" in r) {
      push(name, "error", (r as { error: string }).error.split("\n")[0]);
      continue;
    }
    switch (name) {
      case "latency": {
        const l = get(r, "submitToExistsMs") as Summary;
        push(name, `submit → EXISTS, ${get(r, "params.receivers")} IDLE receivers`, formatSummary(l));
        push(name, "p99 < 10 ms", l.p99, verdict(l.p99 !== undefined ? l.p99 < 10 : undefined));
        push(name, "lost notifications", get(r, "lost"), verdict(get(r, "lost") === 0));
        push(name, "submit (MAIL … 250)", formatSummary(get(r, "submitMs") as Summary));
        push(name, "250 → EXISTS (< 0: EXISTS first)", formatSummary(get(r, "after250Ms") as Summary));
        break;
      }
      case "throughput":
        push(
          name,
          `msgs/s delivered (${get(r, "params.senders")} senders, ${get(r, "params.size")} B)`,
          get(r, "msgsPerSec"),
        );
        push(name, "accepted / failed", `${get(r, "accepted")} / ${get(r, "failures")}`);
        push(
          name,
          "lost / late notifications",
          `${get(r, "lost")} / ${get(r, "late")}`,
          verdict(get(r, "lost") === 0),
        );
        push(name, "250 → EXISTS under load", formatSummary(get(r, "existsAfter250Ms") as Summary));
        break;
      case "memory": {
        const per = get(r, "server.rssKiBPerSession") as number | null;
        push(name, `sessions established / failed`, `${get(r, "established")} / ${get(r, "failed")}`);
        push(name, "RSS per idle TLS session (KiB)", per, verdict(per === null ? undefined : per < 30));
        push(name, "PSS per session (KiB)", get(r, "server.pssKiBPerSession"));
        push(name, "V8 heap per session (KiB)", get(r, "server.heapKiBPerSession"));
        const back = get(r, "server.rssAfterClosePct") as number | null;
        push(name, "RSS after close vs start (%)", back, verdict(back === null ? undefined : back <= 10));
        push(name, "RSS-after-close growth over cycles (%)", get(r, "server.rssGrowthOverCyclesPct"));
        break;
      }
      case "login":
        push(name, "TLS connect + LOGIN", formatSummary(get(r, "connectPlusLoginMs") as Summary));
        push(name, "TLS handshake", formatSummary(get(r, "tlsHandshakeMs") as Summary));
        break;
      case "greeting": {
        const g = get(r, "connectToGreetingMs") as Summary;
        push(name, "connect → 220 on submission", formatSummary(g));
        push(name, "p50 < 5 ms", g.p50, verdict(g.p50 !== undefined ? g.p50 < 5 : undefined));
        break;
      }
      case "deltachat": {
        const p = get(r, "pingPongMs") as Summary;
        push(name, "ping-pong A→B→A", formatSummary(p));
        push(name, "median < 200 ms", p.p50, verdict(p.p50 !== undefined ? p.p50 < 200 : undefined));
        push(
          name,
          `send ${get(r, "params.burst")}, receive ${get(r, "params.burst")}`,
          formatSummary(get(r, "sendReceiveBurstMs") as Summary),
        );
        push(
          name,
          "configure (2 accounts) / Secure-Join (s)",
          `${get(r, "configureS")} / ${get(r, "secureJoinS")}`,
        );
        break;
      }
      case "federation":
        for (const ch of ["https", "smtp"]) {
          push(
            name,
            `A → B over ${ch}: submit → EXISTS`,
            formatSummary(get(r, `${ch}.submitToExistsMs`) as Summary),
          );
          push(name, `  lost (${ch})`, get(r, `${ch}.lost`));
        }
        for (const [ch, what] of [
          ["https", "A → B over https"],
          ["smtp", "A → B over smtp"],
          ["local", "A to itself (local)"],
          ["postfix", "Postfix → Postfix"],
        ])
          push(name, `${what}: msgs/s`, get(r, `${ch}.throughput.msgsPerSec`));
        break;
      default: {
        if (Array.isArray(r)) {
          for (const item of r) push(name, "result", JSON.stringify(item).slice(0, 100));
          break;
        }
        // sub-benchmarks: their scalar top-level fields
        const scalars = Object.entries((r ?? {}) as Record<string, unknown>).filter(
          ([k, v]) => k !== "cpu" && (typeof v === "number" || typeof v === "string"),
        );
        if (!scalars.length) push(name, "result", JSON.stringify(r).slice(0, 100));
        for (const [k, v] of scalars) push(name, k, v);
      }
    }
  }
  return out;
}

export function formatTable(results: Results): string {
  const rs = rows(results);
  const w = [10, 44, 60];
  const line = (a: string, b: string, c: string, d = "") =>
    `${a.padEnd(w[0]!)} ${b.padEnd(w[1]!)} ${c.padEnd(w[2]!)} ${d}`.trimEnd();
  return [
    line("scenario", "metric", "value", "target"),
    line("-".repeat(8), "-".repeat(6), "-".repeat(5), "-".repeat(6)),
  ]
    .concat(rs.map((r) => line(r.scenario, r.metric, r.value, r.goal)))
    .join("\n");
}

export function writeJson(path: string, results: Results): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
