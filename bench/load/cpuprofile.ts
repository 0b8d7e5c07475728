/**
 * Summary of a V8 .cpuprofile (written by node --cpu-prof): self time per
 * function, the largest first, plus the idle share. Run directly:
 * `npx tsx bench/load/cpuprofile.ts FILE [N]`.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  fn: string;
  selfMs: number;
  share: number;
}

export function summarizeProfile(
  path: string,
  top = 20,
): { totalMs: number; idleShare: number; rows: ProfileRow[] } {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, Node>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const where = (n: Node) =>
    n.callFrame.url
      ? `${relative(process.cwd(), n.callFrame.url.replace(/^file:\/\//, ""))}:${n.callFrame.lineNumber + 1}`
      : "";
  /** A native frame is named after its nearest JavaScript caller: "run ← insertMessage src/store/…". */
  const label = (n: Node): string => {
    const name = n.callFrame.functionName || "(anonymous)";
    if (n.callFrame.url || name.startsWith("(")) return `${name} ${where(n)}`.trim();
    let up = parent.get(n.id);
    while (up && !up.callFrame.url) up = parent.get(up.id);
    return up ? `${name} ← ${up.callFrame.functionName || "(anonymous)"} ${where(up)}` : name;
  };
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const n = byId.get(p.samples[i]!);
    if (!n) continue;
    total += dt;
    if (n.callFrame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    const key = label(n);
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const busy = total - idle;
  const rows = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, ms]) => ({
      fn,
      selfMs: Math.round(ms),
      share: Math.round((ms / Math.max(1, busy)) * 1000) / 10,
    }));
  return { totalMs: Math.round(total), idleShare: Math.round((idle / Math.max(1, total)) * 1000) / 10, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const s = summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 25));
  console.log(`${s.totalMs} ms sampled, ${s.idleShare}% idle; self time of the busy part:`);
  for (const r of s.rows)
    console.log(`${String(r.selfMs).padStart(7)} ms ${String(r.share).padStart(5)}%  ${r.fn}`);
}
