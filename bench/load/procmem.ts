/** Server memory from /proc: RSS and PSS summed over PIDs and/or process names. */
import { readdirSync, readFileSync } from "node:fs";

export interface MemSample {
  procs: number;
  rssKb: number;
  pssKb: number;
}

function readKb(text: string, key: string): number {
  const i = text.indexOf(`${key}:`);
  return i < 0 ? 0 : Number.parseInt(text.slice(i + key.length + 1), 10) || 0;
}

export function processMemory(pid: number): MemSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    let pss = 0;
    try {
      pss = readKb(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"), "Pss");
    } catch {}
    return { procs: 1, rssKb: readKb(status, "VmRSS"), pssKb: pss };
  } catch {
    return undefined;
  }
}

/** Sums the memory of `pids` plus every process whose comm is in `names` (not this process). */
export function serverMemory(pids: number[], names: string[]): MemSample | undefined {
  const all = new Set(pids);
  if (names.length) {
    const want = new Set(names);
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
      try {
        if (want.has(readFileSync(`/proc/${d}/comm`, "utf8").trim())) all.add(Number(d));
      } catch {}
    }
  }
  if (!all.size) return undefined;
  const out: MemSample = { procs: 0, rssKb: 0, pssKb: 0 };
  for (const pid of all) {
    const m = processMemory(pid);
    if (!m) continue;
    out.procs++;
    out.rssKb += m.rssKb;
    out.pssKb += m.pssKb;
  }
  return out;
}

/** Busy CPU seconds of the whole machine (/proc/stat). */
export function machineBusySeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}
