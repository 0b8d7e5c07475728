import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { INLINE_MAX_BYTES } from "../../src/store/inline-bodies.ts";
import { type OpenStoreOptions, openStore, type SqliteStore } from "../../src/store/open.ts";

export interface TempStore {
  dir: string;
  store: SqliteStore;
  reopen(): Promise<SqliteStore>;
  cleanup(): Promise<void>;
}

/** A store in a fresh temporary directory. */
export async function tempStore(opts: OpenStoreOptions = {}): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-store-"));
  const t: TempStore = {
    dir,
    store: await openStore(dir, opts),
    async reopen() {
      await t.store.close();
      t.store = await openStore(dir, opts);
      return t.store;
    },
    async cleanup() {
      await t.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** The two ways a store keeps bodies, for tests that run with each (inline-bodies.ts). */
export const BODY_KINDS: ReadonlyArray<[kind: string, opts: OpenStoreOptions]> = [
  ["inline", {}],
  ["files", { inlineMaxBytes: -1 }],
];

/** Number of bodies a data dir holds: files under `<dir>/messages` and rows inside the database. */
export function countBodies(dir: string): number {
  const db = new Database(join(dir, "store.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return countFiles(dir) + (db.prepare("SELECT count(*) FROM bodies").pluck().get() as number);
  } finally {
    db.close();
  }
}

/**
 * Transactions committed in the store's WAL since its last reset: frames whose header
 * carries the database size after a commit (https://www.sqlite.org/fileformat.html,
 * "WAL File Format"), counted while their salts match the WAL header's.
 */
export function walCommits(dir: string): number {
  const wal = readFileSync(join(dir, "store.sqlite-wal"));
  if (wal.length < 32) return 0;
  const frame = 24 + wal.readUInt32BE(8);
  const salts = wal.subarray(16, 24);
  let n = 0;
  for (let off = 32; off + frame <= wal.length; off += frame) {
    if (!wal.subarray(off + 8, off + 16).equals(salts)) break;
    if (wal.readUInt32BE(off + 4) !== 0) n++;
  }
  return n;
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

/**
 * The body the durability child appends for (run, seq), derived from both: 1-9 KiB
 * (inside the database), and every fourth one larger than INLINE_MAX_BYTES (a file).
 */
export function durabilityBody(run: number, seq: number): Buffer {
  const line = `run ${run} message ${seq} `;
  const size = 1024 + ((seq * 7919) % 8192) + (seq % 4 === 3 ? INLINE_MAX_BYTES : 0);
  return Buffer.from(line.repeat(Math.ceil(size / line.length)));
}

/** Damages a database file: every page but the first (the schema) overwritten with junk. */
export function damage(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  const junk = Buffer.alloc(4096, 0xa5);
  for (let off = 4096; off < size; off += 4096) writeSync(fd, junk, 0, junk.length, off);
  closeSync(fd);
}
