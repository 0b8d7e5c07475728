// Keyed rate limiter using the Generic Cell Rate Algorithm, with the
// semantics of Rust governor's `Quota::per_minute(n).allow_burst(b)` that
// chatmail's filtermail uses per envelope sender: `b` cells at once, then one
// every 60/n seconds. Each key stores only its theoretical arrival time
// (TAT); a key whose TAT is not in the future is equivalent to an unknown key
// and is forgotten by the sweep, so memory stays bounded by recent senders.
//
// Times are kept as integer microseconds, so repeated additions do not drift.

export interface GcraOptions {
  /** Sustained rate: cells per minute (> 0). */
  perMinute: number;
  /** Cells allowed at once (integer >= 1). */
  burst: number;
  /** Monotonic clock in milliseconds; defaults to performance.now(). */
  now?: () => number;
  /** Sweep at least this often, in milliseconds of the clock (default 60 000). */
  sweepIntervalMs?: number;
}

export type Take = { ok: true } | { ok: false; retryAfterMs: number };

const MIN_SWEEP_SIZE = 1024;

export class Gcra {
  readonly #t: number; // emission interval, µs
  readonly #tau: number; // tolerance: t * (burst - 1), µs
  readonly #now: () => number;
  readonly #sweepInterval: number;
  readonly #tat = new Map<string, number>();
  #lastSweep: number;
  #sweepAtSize = MIN_SWEEP_SIZE;

  constructor(options: GcraOptions) {
    const { perMinute, burst } = options;
    if (!(Number.isFinite(perMinute) && perMinute > 0))
      throw new RangeError("perMinute must be a positive number");
    if (!(Number.isInteger(burst) && burst >= 1)) throw new RangeError("burst must be an integer >= 1");
    this.#t = Math.max(1, Math.floor(60_000_000 / perMinute));
    this.#tau = this.#t * (burst - 1);
    this.#now = options.now ?? (() => performance.now());
    this.#sweepInterval = Math.round((options.sweepIntervalMs ?? 60_000) * 1000);
    this.#lastSweep = this.#micros();
  }

  #micros(): number {
    return Math.round(this.#now() * 1000);
  }

  /** Takes one cell for `key`, or says how long until one is available. */
  take(key: string): Take {
    const t0 = this.#micros();
    const tat = this.#tat.get(key) ?? t0;
    const earliest = tat - this.#tau;
    if (t0 < earliest) return { ok: false, retryAfterMs: Math.ceil((earliest - t0) / 1000) };
    this.#tat.set(key, Math.max(tat, t0) + this.#t);
    if (this.#tat.size >= this.#sweepAtSize || t0 - this.#lastSweep >= this.#sweepInterval) this.sweep();
    return { ok: true };
  }

  /** Forgets keys whose state lies in the past; returns how many were removed. */
  sweep(): number {
    const t0 = this.#micros();
    let removed = 0;
    for (const [key, tat] of this.#tat) {
      if (tat <= t0) {
        this.#tat.delete(key);
        removed++;
      }
    }
    this.#lastSweep = t0;
    this.#sweepAtSize = Math.max(MIN_SWEEP_SIZE, this.#tat.size * 2);
    return removed;
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.#tat.size;
  }
}
