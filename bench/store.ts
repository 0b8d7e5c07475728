/**
 * Store benchmark: durable appends per second for a number of concurrent
 * writers (each waits for its append before the next one), per body size and
 * per way of storing the body: "inline" (inside SQLite up to the threshold,
 * src/store/inline-bodies.ts, as the relay runs) and "files" (every body a
 * file, as before inline bodies). fsyncsPerAppend counts what the store issues
 * per append: one WAL fsync per group-commit batch, the directory fsyncs, and
 * one fdatasync per body file (checkpoints not included).
 * Run directly: `npx tsx bench/store.ts [seconds] [writers,...] [sizes,...] [files,inline,sqlite]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { INLINE_MAX_BYTES } from "../src/store/inline-bodies.ts";
import { openStore } from "../src/store/open.ts";

/** "sqlite": every body inside SQLite whatever its size (to measure where the threshold belongs). */
export type BodyMode = "inline" | "files" | "sqlite";
const INLINE_MAX: Record<BodyMode, number> = {
  inline: INLINE_MAX_BYTES,
  files: -1,
  sqlite: Number.POSITIVE_INFINITY,
};

export interface StoreBenchRow {
  mode: BodyMode;
  bytes: number;
  writers: number;
  appends: number;
  appendsPerSecond: number;
  /** Appends per group-commit batch (one SQLite commit each). */
  appendsPerBatch: number;
  fsyncsPerAppend: number;
  p50Ms: number;
  p99Ms: number;
}

async function benchWriters(mode: BodyMode, bytes: number, writers: number, seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-bench-store-"));
  const inlineMaxBytes = INLINE_MAX[mode];
  const store = await openStore(dir, { inlineMaxBytes });
  try {
    await store.createAccount("bench@example.org", "h", 1);
    const inbox = (await store.getMailbox("bench@example.org", "INBOX"))!;
    const data = Buffer.alloc(bytes, "x");
    const latencies: number[] = [];
    const before = store.commitStats;
    const start = performance.now();
    const end = start + seconds * 1000;
    const writer = async (): Promise<void> => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await store.append(inbox.id, { data });
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: writers }, writer));
    const elapsed = (performance.now() - start) / 1000;
    const after = store.commitStats;
    latencies.sort((a, b) => a - b);
    const n = latencies.length;
    const pct = (p: number) => Math.round(latencies[Math.min(n - 1, Math.floor(n * p))]! * 100) / 100;
    const batches = after.batches - before.batches;
    const fileSyncs = bytes > inlineMaxBytes ? n : 0;
    const fsyncs = batches + after.dirSyncs - before.dirSyncs + fileSyncs;
    const row: StoreBenchRow = {
      mode,
      bytes,
      writers,
      appends: n,
      appendsPerSecond: Math.round(n / elapsed),
      appendsPerBatch: Math.round((n / Math.max(1, batches)) * 10) / 10,
      fsyncsPerAppend: Math.round((fsyncs / Math.max(1, n)) * 100) / 100,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
    };
    return row;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStore(opts: {
  seconds?: number;
  writers: number[];
  sizes?: number[];
  modes?: BodyMode[];
}): Promise<Record<string, unknown>> {
  const seconds = opts.seconds ?? 3;
  const sizes = opts.sizes ?? [4096];
  const modes = opts.modes ?? ["files", "inline"];
  const rows: StoreBenchRow[] = [];
  // the two modes alternate, so that a change in the machine's load hits both
  for (const bytes of sizes)
    for (const w of opts.writers)
      for (const mode of modes) rows.push(await benchWriters(mode, bytes, w, seconds));
  const out: Record<string, unknown> = { inlineMaxBytes: INLINE_MAX_BYTES, seconds, rows };
  for (const r of rows) out[`appendsPerSecond_${r.mode}_${r.bytes}_${r.writers}`] = r.appendsPerSecond;
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  const writers = (process.argv[3] ?? "1,32").split(",").map(Number);
  const sizes = (process.argv[4] ?? "4096").split(",").map(Number);
  const modes = (process.argv[5] ?? "files,inline").split(",") as BodyMode[];
  const result = await benchStore({ seconds, writers, sizes, modes });
  console.log(`store: durable appends, ${seconds} s each (inline threshold ${INLINE_MAX_BYTES} octets)`);
  console.table(result.rows);
}
