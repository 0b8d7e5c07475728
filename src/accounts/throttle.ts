/**
 * Login and account-creation budgets (issue 10): failed logins per client
 * address and per account, and accounts created per client address. Each budget
 * is a GCRA cell limiter (the idea of src/policy/gcra.ts): `perHour` cells at
 * once, refilling evenly, one every hour/perHour. Unlike the policy limiter it
 * can be asked without taking a cell (a login is refused before any hashing
 * while the budget is empty, and only a failure takes a cell), and its memory
 * is capped: keys whose budget is full again are dropped by the sweep, and past
 * `maxKeys` the least recently charged key is forgotten.
 *
 * Client addresses are keyed by src/net/address-key.ts (IPv6 by its /64).
 */
import type { Config } from "../config/types.ts";
import { addressKey } from "../net/address-key.ts";

/** Keys one budget remembers at most (~100 bytes each). */
export const MAX_KEYS = 65_536;
const HOUR_MS = 3_600_000;
const MIN_SWEEP_SIZE = 1024;

export interface BudgetOptions {
  /** Cells per hour, and the burst (integer >= 1). */
  perHour: number;
  /** Monotonic clock, ms. */
  now?: () => number;
  maxKeys?: number;
}

export class Budget {
  readonly #t: number; // emission interval, ms
  readonly #tau: number; // tolerance: t * (burst - 1), ms
  readonly #now: () => number;
  readonly #maxKeys: number;
  /** Theoretical arrival time per key; Map order = least recently charged first. */
  readonly #tat = new Map<string, number>();
  #sweepAtSize = MIN_SWEEP_SIZE;

  constructor(opts: BudgetOptions) {
    if (!(Number.isInteger(opts.perHour) && opts.perHour >= 1))
      throw new RangeError("perHour must be an integer >= 1");
    this.#t = HOUR_MS / opts.perHour;
    this.#tau = this.#t * (opts.perHour - 1);
    this.#now = opts.now ?? (() => performance.now());
    this.#maxKeys = Math.max(1, opts.maxKeys ?? MAX_KEYS);
  }

  /** Whether `key` has a cell left (takes nothing). */
  allows(key: string): boolean {
    const tat = this.#tat.get(key);
    return tat === undefined || this.#now() >= tat - this.#tau;
  }

  /** Takes a cell for `key`; false (and nothing taken) when none is left. */
  take(key: string): boolean {
    const t0 = this.#now();
    const tat = this.#tat.get(key) ?? t0;
    if (t0 < tat - this.#tau) return false;
    this.#tat.delete(key);
    this.#tat.set(key, Math.max(tat, t0) + this.#t);
    if (this.#tat.size >= this.#sweepAtSize) this.sweep();
    if (this.#tat.size > this.#maxKeys) {
      const oldest = this.#tat.keys().next().value;
      if (oldest !== undefined) this.#tat.delete(oldest);
    }
    return true;
  }

  /** Drops keys whose budget is full again; returns how many. */
  sweep(): number {
    const t0 = this.#now();
    let removed = 0;
    for (const [key, tat] of this.#tat) {
      if (tat <= t0) {
        this.#tat.delete(key);
        removed++;
      }
    }
    this.#sweepAtSize = Math.max(MIN_SWEEP_SIZE, this.#tat.size * 2);
    return removed;
  }

  get size(): number {
    return this.#tat.size;
  }
}

/** The three budgets of one relay, shared by IMAP and SMTP. */
export class LoginThrottle {
  readonly failuresPerIp: Budget;
  readonly failuresPerAccount: Budget;
  readonly creationsPerIp: Budget;

  constructor(
    config: Pick<
      Config,
      "max_login_failures_per_ip" | "max_login_failures_per_account" | "max_accounts_per_ip"
    >,
    opts: { now?: () => number; maxKeys?: number } = {},
  ) {
    this.failuresPerIp = new Budget({ ...opts, perHour: config.max_login_failures_per_ip });
    this.failuresPerAccount = new Budget({ ...opts, perHour: config.max_login_failures_per_account });
    this.creationsPerIp = new Budget({ ...opts, perHour: config.max_accounts_per_ip });
  }

  /** Whether logins from `ip` are refused for now (its failure budget is spent). */
  ipBlocked(ip: string | undefined): boolean {
    return !this.failuresPerIp.allows(addressKey(ip));
  }

  /** Whether logins to `address` (lower-cased) are refused for now. */
  accountBlocked(address: string): boolean {
    return !this.failuresPerAccount.allows(address);
  }

  /** Records a failed login from `ip`, to `address` if it names one of ours. */
  failed(ip: string | undefined, address?: string): void {
    this.failuresPerIp.take(addressKey(ip));
    if (address !== undefined) this.failuresPerAccount.take(address);
  }

  /** Takes a cell of `ip`'s account-creation budget; false when it is spent. */
  mayCreate(ip: string | undefined): boolean {
    return this.creationsPerIp.take(addressKey(ip));
  }
}
