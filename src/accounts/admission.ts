/**
 * Admission control for new accounts (docs/reference-relay.md §2.2 rules 1 and 6): the
 * "nocreate" switch file and the host's load, memory and disk limits. Existing
 * accounts keep working whatever this says.
 */
import { access, readFile, statfs } from "node:fs/promises";
import { freemem, loadavg } from "node:os";
import type { Config } from "../config/types.ts";

/** Why account creation is refused right now, or undefined when it is allowed. */
export type Refusal = string | undefined;

/** MemAvailable from /proc/meminfo (Linux), else os.freemem(). */
export async function availableMemory(): Promise<number> {
  try {
    const text = await readFile("/proc/meminfo", "latin1");
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(text);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return freemem();
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export class Admission {
  private cached: { at: number; refusal: Refusal } | undefined;

  constructor(
    private readonly config: Config,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks are cached for two seconds: a burst of first logins costs one statfs. */
  async refusal(): Promise<Refusal> {
    const t = this.now();
    if (this.cached && t - this.cached.at < 2000) return this.cached.refusal;
    const refusal = await this.check();
    this.cached = { at: t, refusal };
    return refusal;
  }

  private async check(): Promise<Refusal> {
    const c = this.config;
    if (c.nocreate_file && (await exists(c.nocreate_file))) return "account creation is switched off";
    const load = loadavg()[0] ?? 0;
    if (load > c.max_load_1m) return `load ${load.toFixed(2)} above max_load_1m ${c.max_load_1m}`;
    const mem = await availableMemory();
    if (mem < c.min_available_memory) return `available memory ${mem} below min_available_memory`;
    try {
      const fs = await statfs(c.data_dir);
      const free = fs.bavail * fs.bsize;
      if (free < c.min_free_disk_space) return `free disk ${free} below min_free_disk_space`;
    } catch {
      return "cannot determine free disk space";
    }
    return undefined;
  }
}
