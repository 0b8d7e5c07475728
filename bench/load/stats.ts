/** Percentiles of latency samples (nearest-rank, RFC-free: the usual benchmark convention). */

export interface Summary {
  n: number;
  min?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
  mean?: number;
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) return { n: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return {
    n: s.length,
    min: round1(s[0]!),
    p50: round1(pct(50)),
    p90: round1(pct(90)),
    p99: round1(pct(99)),
    max: round1(s[s.length - 1]!),
    mean: round1(mean),
  };
}

export function median(samples: number[]): number | undefined {
  return summarize(samples).p50;
}

/** "p50 1.2  p90 …  (n=…)" for the table. */
export function formatSummary(s: Summary | undefined, unit = "ms"): string {
  if (!s?.n) return "n/a";
  return `p50 ${s.p50} ${unit}  p90 ${s.p90}  p99 ${s.p99}  max ${s.max}  (n=${s.n})`;
}

/** Runs `fn(i)` for i in [0, count) with at most `concurrency` at once. */
export async function runPool(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
}

/** Counts errors by message, digits folded, for the report. */
export function tally(map: Record<string, number>, err: unknown): void {
  const text = String((err as Error)?.message ?? err)
    .replace(/\d+/g, "#")
    .slice(0, 120);
  map[text] = (map[text] ?? 0) + 1;
}

/** Deterministic PRNG (mulberry32) so that runs against different targets pick the same receivers. */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
