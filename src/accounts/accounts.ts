/**
 * Accounts created on first login, exactly as the reference relay's doveauth
 * (reference §2.2): own domain only, localpart ^[a-z0-9._-]+$ of
 * username_min_length..username_max_length, password >= password_min_length,
 * no creation while switched off or over limits, a wrong password never
 * overwrites, concurrent first logins produce one account. Passwords are stored
 * as {SHA512-CRYPT}$6$... so Dovecot-based relays can be imported.
 */
import { createHash } from "node:crypto";
import { addressDomain } from "../config/domain.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/types.ts";
import { Admission } from "./admission.ts";
import { HashPool } from "./hash-pool.ts";
import type { Accounts, LoginResult } from "./types.ts";

const SCHEME = "{SHA512-CRYPT}";
const LOCALPART = /^[a-z0-9._-]+$/;
const DAY = 86400;
/** Successful logins remembered (address -> digest) so reconnects skip the crypt. */
const CACHE_SIZE = 20000;

export interface AccountsOptions {
  config: Config;
  store: Store;
  log: Logger;
  now?: () => number;
}

export class AccountService implements Accounts {
  readonly admission: Admission;
  private readonly hashes = new HashPool();
  private readonly verified = new Map<string, string>();
  private readonly lastLogin = new Map<string, number>();
  private readonly config: Config;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly domainSuffix: string;

  constructor(opts: AccountsOptions) {
    this.config = opts.config;
    this.store = opts.store;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.admission = new Admission(opts.config, this.now);
    this.domainSuffix = `@${addressDomain(opts.config.mail_domain)}`;
  }

  /** Rules 2-5 of reference §2.2 for a lower-cased address; undefined when allowed. */
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

  async login(user: string, password: string, protocol: "imap" | "smtp"): Promise<LoginResult> {
    const address = user.toLowerCase();
    if (!address.endsWith(this.domainSuffix) || address.length === this.domainSuffix.length)
      return { ok: false, reason: "invalid", detail: "not an address of this relay" };
    if (password.length === 0 || /[\r\n\0]/.test(password))
      return { ok: false, reason: "invalid", detail: "bad password" };

    let account = await this.store.getAccount(address);
    let created = false;
    if (!account) {
      const violation = this.creationRuleViolation(address, password);
      if (violation) return { ok: false, reason: "invalid", detail: violation };
      const refusal = await this.admission.refusal();
      if (refusal) {
        this.log.warn({ reason: refusal }, "registration rejected");
        return { ok: false, reason: "nocreate", detail: refusal };
      }
      const hash = SCHEME + (await this.hashes.hash(password));
      const result = await this.store.createAccount(address, hash, Math.floor(this.now() / 1000));
      account = result.account;
      created = result.created;
      if (created) {
        this.log.info("account created");
        this.remember(address, password);
      }
    }
    if (!created && !(await this.passwordMatches(address, password, account.passwordHash)))
      return { ok: false, reason: "invalid", detail: "wrong password" };

    if (protocol === "imap") await this.recordLogin(address, account.lastLoginDay);
    return { ok: true, address, created };
  }

  private digest(address: string, password: string): string {
    return createHash("sha256").update(address).update("\0").update(password).digest("base64");
  }

  private remember(address: string, password: string): void {
    if (this.verified.size >= CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(address, this.digest(address, password));
  }

  private async passwordMatches(address: string, password: string, stored: string): Promise<boolean> {
    if (this.verified.get(address) === this.digest(address, password)) return true;
    const hash = stored.startsWith(SCHEME) ? stored.slice(SCHEME.length) : stored;
    const ok = await this.hashes.verify(password, hash);
    if (ok) this.remember(address, password);
    return ok;
  }

  /** Reference §2.3: last login at day granularity, written only when it changes. */
  private async recordLogin(address: string, storedDay: number): Promise<void> {
    const day = Math.floor(this.now() / 1000 / DAY) * DAY;
    const known = this.lastLogin.get(address) ?? storedDay;
    if (known === day) return;
    await this.store.setLastLoginDay(address, day);
    this.lastLogin.set(address, day);
  }

  /** Forget cached state of a deleted account. */
  forget(address: string): void {
    this.verified.delete(address);
    this.lastLogin.delete(address);
  }

  async close(): Promise<void> {
    await this.hashes.close();
  }
}
