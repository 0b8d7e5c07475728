/**
 * Store benchmark: durable appends per second of 4 KiB messages for a number
 * of concurrent writers (each waits for its append before the next one).
 * Run directly: `npx tsx bench/store.ts [seconds] [writers,...]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openStore } from "../src/store/open.ts";

export interface StoreBenchRow {
  writers: number;
  appends: number;
  appendsPerSecond: number;
  /** Appends per group-commit batch (one SQLite commit each). */
  appendsPerBatch: number;
  p50Ms: number;
  p99Ms: number;
}

async function benchWriters(writers: number, seconds: number): Promise<StoreBenchRow> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-bench-store-"));
  const store = await openStore(dir);
  try {
    await store.createAccount("bench@example.org", "h", 1);
    const inbox = (await store.getMailbox("bench@example.org", "INBOX"))!;
    const data = Buffer.alloc(4096, "x");
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
    const pct = (p: number) =>
      Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! * 100) / 100;
    return {
      writers,
      appends: latencies.length,
      appendsPerSecond: Math.round(latencies.length / elapsed),
      appendsPerBatch: Math.round((latencies.length / Math.max(1, after.batches - before.batches)) * 10) / 10,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStore(opts: {
  seconds?: number;
  writers: number[];
}): Promise<Record<string, unknown>> {
  const seconds = opts.seconds ?? 3;
  const rows: StoreBenchRow[] = [];
  for (const w of opts.writers) rows.push(await benchWriters(w, seconds));
  const out: Record<string, unknown> = { messageBytes: 4096, seconds, rows };
  for (const r of rows) out[`appendsPerSecond_${r.writers}`] = r.appendsPerSecond;
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  const writers = (process.argv[3] ?? "1,32").split(",").map(Number);
  const result = await benchStore({ seconds, writers });
  console.log(`store: durable appends of 4 KiB, ${seconds} s each`);
  console.table(result.rows);
}
