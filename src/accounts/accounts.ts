/**
 * Accounts created on first login, exactly as the reference relay's doveauth
 * (docs/reference-relay.md §2.2): own domain only, localpart ^[a-z0-9._-]+$ of
 * username_min_length..username_max_length, password >= password_min_length,
 * no creation while switched off or over limits, a wrong password never
 * overwrites, concurrent first logins produce one account. Passwords are stored
 * as {SHA512-CRYPT}$6$... so Dovecot-based relays can be imported.
 *
 * Against guessing and enumeration (issue 10): the budgets of throttle.ts are
 * asked before any hashing, every failure costs one crypt whether or not the
 * account exists (a name that cannot be created is verified against a dummy
 * hash), and a login that does not fit the hash pool's queue is refused as
 * "busy". The protocol layers add the failure delay and the per-connection limit.
 */
import { createHmac, randomBytes } from "node:crypto";
import { addressDomain } from "../config/domain.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { isOutOfSpace } from "../store/full.ts";
import type { Store } from "../store/types.ts";
import { Admission } from "./admission.ts";
import { HashPool, HashPoolBusy } from "./hash-pool.ts";
import { LoginThrottle } from "./throttle.ts";
import { type Accounts, type LoginFailure, type LoginResult, MAX_PASSWORD_BYTES } from "./types.ts";

const SCHEME = "{SHA512-CRYPT}";
const LOCALPART = /^[a-z0-9._-]+$/;
const DAY = 86400;
/**
 * Successful logins remembered so reconnects skip the crypt: address -> an
 * HMAC, under a key that lives only in this process, of the address, the
 * stored hash and the password. A changed stored hash (a re-import, a reset)
 * or a removed account no longer matches; the map reveals nothing without the key.
 */
const CACHE_SIZE = 20000;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254. */
const MAX_ADDRESS_LENGTH = 254;
/**
 * SHA-512 crypt (default 5000 rounds, as newly created accounts) of a random
 * string nobody kept: logins that fail before reaching an account are verified
 * against it, so they cost what a wrong password for an existing account costs.
 */
const DUMMY_HASH =
  "$6$BOkntVD2gzY45WBr$oO.w525g3b7vsQVxOsdhUvntQTjMq0Y2QoPJc6pzrlxidN8r4vZfqiCd9KrvVn0lgoIo9O0dHi/P4BzAVN7s0.";

export interface AccountsOptions {
  config: Config;
  store: Store;
  log: Logger;
  now?: () => number;
  /** The password hashing pool (tests pass a small one). */
  hashPool?: HashPool;
  metrics?: Metrics;
}

export class AccountService implements Accounts {
  readonly admission: Admission;
  readonly throttle: LoginThrottle;
  readonly hashes: HashPool;
  private readonly verified = new Map<string, string>();
  private readonly cacheKey = randomBytes(32);
  private readonly lastLogin = new Map<string, number>();
  private readonly lastLoginWrites = new Set<Promise<void>>();
  private readonly config: Config;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly domainSuffix: string;
  private readonly metrics: Metrics | undefined;

  constructor(opts: AccountsOptions) {
    this.config = opts.config;
    this.store = opts.store;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.admission = new Admission(opts.config, this.now);
    this.throttle = new LoginThrottle(opts.config);
    this.hashes = opts.hashPool ?? new HashPool();
    this.domainSuffix = `@${addressDomain(opts.config.mail_domain)}`;
    this.metrics = opts.metrics;
  }

  /** Rules 2-5 of docs/reference-relay.md §2.2 for a lower-cased address; undefined when allowed. */
  creationRuleViolation(address: string, password: string): string | undefined {
    const c = this.config;
    if (password.length < c.password_min_length) return "password too short";
    if (address.split("@").length !== 2) return "address must contain exactly one @";
    const local = address.slice(0, address.length - this.domainSuffix.length);
    if (local.length < c.username_min_length || local.length > c.username_max_length)
      return "localpart length out of range";
    if (!LOCALPART.test(local)) return "localpart has characters outside [a-z0-9._-]";
    return undefined;
  }

  async exists(address: string): Promise<boolean> {
    return (await this.store.getAccount(address.toLowerCase())) !== undefined;
  }

  async login(
    user: string,
    password: string,
    protocol: "imap" | "smtp",
    clientIp: string,
  ): Promise<LoginResult> {
    try {
      return await this.attempt(user.toLowerCase(), password, protocol, clientIp);
    } catch (err) {
      if (err instanceof HashPoolBusy) return { ok: false, reason: "busy", detail: err.message };
      throw err;
    }
  }

  private async attempt(
    address: string,
    password: string,
    protocol: "imap" | "smtp",
    ip: string,
  ): Promise<LoginResult> {
    const throttle = this.throttle;
    if (throttle.ipBlocked(ip))
      return { ok: false, reason: "throttled", detail: "client address over its failure budget" };
    // Failures that do not depend on whether an account exists may be fast.
    if (
      !address.endsWith(this.domainSuffix) ||
      address.length === this.domainSuffix.length ||
      address.length > MAX_ADDRESS_LENGTH
    )
      return this.failure(ip, undefined, "invalid", "not an address of this relay");
    if (
      password.length === 0 ||
      /[\r\n\0]/.test(password) ||
      Buffer.byteLength(password) > MAX_PASSWORD_BYTES
    )
      return this.failure(ip, address, "invalid", "bad password");

    let account = await this.store.getAccount(address);
    // A reconnect with the password last verified skips the crypt, even while the
    // account's budget is spent: guessing cannot lock its owner out. Guesses
    // against this check are still charged to the client address below.
    const cached =
      account !== undefined &&
      this.verified.get(address) === this.digest(address, account.passwordHash, password);
    if (!cached && throttle.accountBlocked(address)) {
      throttle.failed(ip, address);
      return { ok: false, reason: "throttled", detail: "account over its failure budget" };
    }
    let created = false;
    if (!account) {
      const violation = this.creationRuleViolation(address, password);
      if (violation) return this.failure(ip, address, "invalid", violation, password);
      const refusal = await this.admission.refusal();
      if (refusal) {
        this.log.warn({ reason: refusal }, "registration rejected");
        this.metrics?.rejectedRegistrations.inc();
        return this.failure(ip, address, "nocreate", refusal, password);
      }
      if (!throttle.mayCreate(ip))
        return this.failure(ip, address, "nocreate", "client address over its account budget", password);
      const hash = SCHEME + (await this.hashes.hash(password));
      const result = await this.store.createAccount(address, hash, Math.floor(this.now() / 1000));
      account = result.account;
      created = result.created;
      if (created) {
        this.log.info("account created");
        this.metrics?.createdAccounts.inc();
        this.remember(address, account.passwordHash, password);
      }
    }
    if (!created && !cached && !(await this.passwordMatches(address, password, account.passwordHash)))
      return this.failure(ip, address, "invalid", "wrong password");

    // not awaited: the login does not wait for a durable write of housekeeping
    if (protocol === "imap") this.recordLogin(address, account.lastLoginDay);
    return { ok: true, address, created };
  }

  /**
   * Charges a failed login to the budgets. With `password`, first spends one
   * crypt on the dummy hash: the failure then costs what a wrong password costs.
   */
  private async failure(
    ip: string,
    address: string | undefined,
    reason: LoginFailure,
    detail: string,
    password?: string,
  ): Promise<LoginResult> {
    this.throttle.failed(ip, address);
    if (password !== undefined) await this.hashes.verify(password, DUMMY_HASH);
    return { ok: false, reason, detail };
  }

  private digest(address: string, storedHash: string, password: string): string {
    return createHmac("sha256", this.cacheKey)
      .update(address)
      .update("\0")
      .update(storedHash)
      .update("\0")
      .update(password)
      .digest("base64");
  }

  private remember(address: string, storedHash: string, password: string): void {
    if (this.verified.size >= CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(address, this.digest(address, storedHash, password));
  }

  private async passwordMatches(address: string, password: string, stored: string): Promise<boolean> {
    const hash = stored.startsWith(SCHEME) ? stored.slice(SCHEME.length) : stored;
    const ok = await this.hashes.verify(password, hash);
    if (ok) this.remember(address, stored, password);
    return ok;
  }

  /**
   * docs/reference-relay.md §2.3: last login at day granularity, written only
   * when it changes. In the background: a login never waits for this commit
   * (a day lost to a crash is written by the next login).
   */
  private recordLogin(address: string, storedDay: number): void {
    const day = Math.floor(this.now() / 1000 / DAY) * DAY;
    const known = this.lastLogin.get(address) ?? storedDay;
    if (known === day) return;
    this.lastLogin.set(address, day);
    const write = this.store.setLastLoginDay(address, day).then(
      () => undefined,
      (err: unknown) => {
        if (this.lastLogin.get(address) === day) this.lastLogin.delete(address);
        // a full disk must not lock users out of what is stored; the next login records the day
        if (!isOutOfSpace(err)) this.log.error({ err }, "last-login day not recorded");
      },
    );
    this.lastLoginWrites.add(write);
    void write.finally(() => this.lastLoginWrites.delete(write));
  }

  /** Resolves once the last-login writes started so far are committed (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.lastLoginWrites]);
  }

  /** Forget cached state of a deleted account. */
  forget(address: string): void {
    this.verified.delete(address);
    this.lastLogin.delete(address);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.hashes.close();
  }
}
