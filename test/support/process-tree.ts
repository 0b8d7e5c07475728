/** Processes below a pid, from /proc (Linux): to check that nothing outlives a stop. */
import { readdirSync, readFileSync } from "node:fs";

/** pid -> [parent pid, state] of every process, zombies included. */
function table(): Map<number, [number, string]> {
  const out = new Map<number, [number, string]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(name), [Number(rest[1]), rest[0] ?? "?"]);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every descendant of `pid` (children, grandchildren, …). */
export function descendants(pid: number): number[] {
  const t = table();
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [p, [ppid]] of t) if (frontier.includes(ppid)) next.push(p);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Whether `pid` is a live (not zombie) process. */
export function alive(pid: number): boolean {
  const entry = table().get(pid);
  return entry !== undefined && entry[1] !== "Z";
}
