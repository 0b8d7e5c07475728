/**
 * The fuzzing engine shared by every target: a seeded PRNG, a byte-level
 * mutator (bit flips, interesting bytes and numbers, insert/delete/duplicate
 * chunks, dictionary tokens, line moves, splices from the corpus), corpus
 * loading, and a time-budgeted loop that prints its seed and saves any
 * failing input to test/fuzz/findings/. FUZZ_SEED=<n> replays a run.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

export const FUZZ_DIR = join(import.meta.dirname, "..");
export const CORPUS_DIR = join(FUZZ_DIR, "corpus");
export const FINDINGS_DIR = join(FUZZ_DIR, "findings");

/** xorshift128+ seeded through splitmix32: fast, and the same seed gives the same inputs. */
export class Rng {
  private s: Uint32Array;
  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next() || 1]);
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const s = this.s;
    let t = s[0] as number;
    const u = s[3] as number;
    s[0] = s[1] as number;
    s[1] = s[2] as number;
    s[2] = u;
    t ^= t << 11;
    t ^= t >>> 8;
    s[3] = (t ^ u ^ (u >>> 19)) >>> 0;
    return s[3] as number;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

const INTERESTING_BYTES = [
  0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x28, 0x29, 0x2a, 0x2b, 0x2d, 0x2e, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e,
  0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0xc0, 0xff,
];
const INTERESTING_NUMBERS = [
  "0",
  "1",
  "-1",
  "127",
  "255",
  "256",
  "65535",
  "65536",
  "2147483647",
  "2147483648",
  "4294967295",
  "4294967296",
  "9007199254740993",
  "99999999999999999999999",
];

export interface MutatorOptions {
  /** Tokens worth inserting for this input format. */
  dictionary: readonly string[];
  /** Inputs are cut to this many bytes. */
  maxLength: number;
}

function splice(a: Buffer, at: number, del: number, ins: Buffer | string): Buffer {
  const b = typeof ins === "string" ? Buffer.from(ins, "latin1") : ins;
  return Buffer.concat([a.subarray(0, at), b, a.subarray(Math.min(a.length, at + del))]);
}

/** One mutation of `input`; `corpus` feeds splices. */
export function mutateOnce(rng: Rng, input: Buffer, corpus: readonly Buffer[], o: MutatorOptions): Buffer {
  const n = input.length;
  const at = rng.int(n + 1);
  const chunk = () => 1 + rng.int(Math.max(1, Math.min(64, n >> 2) || 1));
  switch (rng.int(12)) {
    case 0: {
      if (n === 0) return Buffer.from([rng.int(256)]);
      const out = Buffer.from(input);
      const i = rng.int(n);
      out[i] = (out[i] as number) ^ (1 << rng.int(8));
      return out;
    }
    case 1: {
      if (n === 0) return Buffer.from([rng.pick(INTERESTING_BYTES)]);
      const out = Buffer.from(input);
      out[rng.int(n)] = rng.pick(INTERESTING_BYTES);
      return out;
    }
    case 2: {
      const len = 1 + rng.int(8);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      return splice(input, at, 0, bytes);
    }
    case 3:
      return splice(input, at, chunk(), "");
    case 4: {
      // Duplicate a chunk, sometimes many times (long lines, deep nesting, many parts).
      const len = chunk();
      const piece = input.subarray(at, at + len);
      const times = rng.chance(0.2)
        ? 1 + rng.int(Math.max(1, (o.maxLength / Math.max(1, piece.length)) | 0))
        : 1 + rng.int(4);
      return splice(input, at, 0, Buffer.concat(Array(Math.min(times, 100_000)).fill(piece)));
    }
    case 5:
    case 6:
      return splice(input, at, rng.chance(0.3) ? chunk() : 0, rng.pick(o.dictionary));
    case 7: {
      // Replace a run of digits (or insert) with an interesting number.
      const s = input.toString("latin1");
      const m = [...s.matchAll(/\d+/g)];
      if (m.length > 0 && rng.chance(0.8)) {
        const d = rng.pick(m);
        return splice(input, d.index, d[0].length, rng.pick(INTERESTING_NUMBERS));
      }
      return splice(input, at, 0, rng.pick(INTERESTING_NUMBERS));
    }
    case 8: {
      // Line moves: duplicate, delete or swap whole lines.
      const lines = input.toString("latin1").split("\n");
      if (lines.length < 2) return splice(input, at, 0, "\r\n");
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      const op = rng.int(3);
      if (op === 0) lines.splice(j, 0, lines[i] as string);
      else if (op === 1) lines.splice(i, 1);
      else [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
      return Buffer.from(lines.join("\n"), "latin1");
    }
    case 9: {
      if (corpus.length === 0) return input;
      const other = rng.pick(corpus);
      const from = rng.int(other.length + 1);
      const piece = other.subarray(from, from + 1 + rng.int(Math.max(1, other.length - from)));
      return splice(input, at, rng.chance(0.5) ? piece.length : 0, piece);
    }
    case 10:
      return input.subarray(0, at);
    default: {
      // Swap two chunks' order by cutting at two points.
      const b = rng.int(n + 1);
      const [x, y] = at < b ? [at, b] : [b, at];
      return Buffer.concat([input.subarray(y), input.subarray(x, y), input.subarray(0, x)]);
    }
  }
}

/** 1 to ~8 stacked mutations, cut to maxLength. */
export function mutate(rng: Rng, input: Buffer, corpus: readonly Buffer[], o: MutatorOptions): Buffer {
  let out = input;
  const rounds = 1 + (rng.chance(0.5) ? 0 : rng.int(rng.chance(0.7) ? 3 : 8));
  for (let i = 0; i < rounds; i++) {
    out = mutateOnce(rng, out, corpus, o);
    if (out.length > o.maxLength) out = out.subarray(0, o.maxLength);
  }
  return out;
}

/**
 * Seed inputs from test/fuzz/corpus/<name>/: each file is one input, except
 * `*.lines` files, which hold one input per line (CRLF escapes as "\r\n").
 */
export function loadCorpus(name: string): Array<{ name: string; data: Buffer }> {
  const dir = join(CORPUS_DIR, name);
  const out: Array<{ name: string; data: Buffer }> = [];
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    if (!statSync(path).isFile() || file.startsWith(".")) continue;
    const data = readFileSync(path);
    if (file.endsWith(".lines")) {
      data
        .toString("latin1")
        .split("\n")
        .forEach((line, i) => {
          if (line.trim() === "" || line.startsWith("#")) return;
          out.push({
            name: `${file}:${i + 1}`,
            data: Buffer.from(line.replaceAll("\\r\\n", "\r\n"), "latin1"),
          });
        });
    } else out.push({ name: file, data });
  }
  return out;
}

export interface FuzzTarget {
  name: string;
  mutator: MutatorOptions;
  /** Seeds; a target may transform the corpus files (e.g. sign them). */
  corpus: Array<{ name: string; data: Buffer }>;
  /** Checks one input; throws an Error (the finding) when a property fails. */
  check(input: Buffer): Promise<void> | void;
  /** A bound on the time of one check, in ms (pure targets). */
  slowMs?: number;
}

export interface RunOptions {
  seconds: number;
  seed?: number;
  /** Stop after this many mutated inputs even if time is left. */
  maxRuns?: number;
  log?: (line: string) => void;
}

export interface RunResult {
  seed: number;
  runs: number;
  maxMs: number;
  finding: { error: Error; input: Buffer; file: string } | null;
}

/** FUZZ_SEED from the environment, else a random seed. */
export function chooseSeed(): number {
  const env = process.env.FUZZ_SEED;
  if (env !== undefined && env !== "") return Number(env) >>> 0;
  return (Math.random() * 0x100000000) >>> 0;
}

function preview(input: Buffer): string {
  const s = JSON.stringify(input.subarray(0, 600).toString("latin1"));
  return input.length > 600 ? `${s}... (${input.length} bytes)` : s;
}

function save(name: string, seed: number, input: Buffer): string {
  mkdirSync(FINDINGS_DIR, { recursive: true });
  const file = join(FINDINGS_DIR, `${name}-${seed}-${Date.now()}.bin`);
  writeFileSync(file, input);
  return file;
}

/** Runs one input through a target's check, timing it. */
async function runOne(target: FuzzTarget, input: Buffer): Promise<number> {
  const t0 = performance.now();
  await target.check(input);
  const ms = performance.now() - t0;
  if (target.slowMs !== undefined && ms > target.slowMs)
    throw new Error(`slow input: ${ms.toFixed(0)} ms (bound ${target.slowMs} ms)`);
  return ms;
}

/**
 * Checks every corpus entry unchanged (regressions), then mutated inputs
 * until the time budget is spent. Stops at the first finding, saves it and
 * returns it; the seed reproduces the sequence of inputs.
 */
export async function runFuzz(target: FuzzTarget, o: RunOptions): Promise<RunResult> {
  const seed = o.seed ?? chooseSeed();
  const log = o.log ?? ((l: string) => console.log(l));
  log(`fuzz ${target.name}: seed ${seed} (reproduce with FUZZ_SEED=${seed}), ${o.seconds} s`);
  const rng = new Rng(seed);
  const seeds = target.corpus.map((c) => c.data);
  const result: RunResult = { seed, runs: 0, maxMs: 0, finding: null };
  const fail = (error: unknown, input: Buffer, what: string): RunResult => {
    const err = error instanceof Error ? error : new Error(String(error));
    const file = save(target.name, seed, input);
    log(`fuzz ${target.name}: FINDING (${what}, seed ${seed}): ${err.message}`);
    log(`  input saved to ${file}: ${preview(input)}`);
    result.finding = { error: err, input, file };
    return result;
  };
  for (const c of target.corpus) {
    try {
      result.maxMs = Math.max(result.maxMs, await runOne(target, c.data));
    } catch (err) {
      return fail(err, c.data, `corpus entry ${c.name}`);
    }
  }
  const end = performance.now() + o.seconds * 1000;
  while (performance.now() < end && (o.maxRuns === undefined || result.runs < o.maxRuns)) {
    const base = rng.pick(seeds);
    const input = mutate(rng, base, seeds, target.mutator);
    result.runs++;
    try {
      result.maxMs = Math.max(result.maxMs, await runOne(target, input));
    } catch (err) {
      return fail(err, input, `input #${result.runs}`);
    }
  }
  log(`fuzz ${target.name}: ${result.runs} inputs, slowest ${result.maxMs.toFixed(1)} ms, no finding`);
  return result;
}
