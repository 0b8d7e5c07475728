import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type SqliteStore } from "../../src/store/open.ts";

export interface TempStore {
  dir: string;
  store: SqliteStore;
  reopen(): Promise<SqliteStore>;
  cleanup(): Promise<void>;
}

/** A store in a fresh temporary directory. */
export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-store-"));
  const t: TempStore = {
    dir,
    store: await openStore(dir),
    async reopen() {
      await t.store.close();
      t.store = await openStore(dir);
      return t.store;
    },
    async cleanup() {
      await t.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Number of body files under `<dir>/messages`. */
export function countFiles(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else n++;
    }
  };
  walk(join(dir, "messages"));
  return n;
}

export const msg = (text: string, flags?: string[]) => ({ data: Buffer.from(text), flags });

/** The body the durability child appends for (run, seq): 1-9 KiB, derived from both. */
export function durabilityBody(run: number, seq: number): Buffer {
  const line = `run ${run} message ${seq} `;
  return Buffer.from(line.repeat(Math.ceil((1024 + ((seq * 7919) % 8192)) / line.length)));
}

/** Damages a database file: every page but the first (the schema) overwritten with junk. */
export function damage(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  const junk = Buffer.alloc(4096, 0xa5);
  for (let off = 4096; off < size; off += 4096) writeSync(fd, junk, 0, junk.length, off);
  closeSync(fd);
}
