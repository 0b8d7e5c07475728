/** The accounts contract used by IMAP, SMTP and HTTP. */

/**
 * Longest password accepted, in UTF-8 bytes; longer ones are refused before
 * any hashing (SHA-512 crypt costs grow with the length). Delta Chat generates
 * much shorter ones; 256 leaves room for any password manager.
 */
export const MAX_PASSWORD_BYTES = 256;

export type LoginFailure =
  /** Wrong password for an existing account, or a name we never create. */
  | "invalid"
  /** The account does not exist and creation is switched off or over limits. */
  | "nocreate"
  /** The client address or the account spent its failure budget: try later. */
  | "throttled"
  /** Password hashing is overloaded: try later. */
  | "busy";

export type LoginResult =
  | { ok: true; address: string; created: boolean }
  | { ok: false; reason: LoginFailure; detail: string };

export interface Accounts {
  /**
   * Verifies a login, creating the account on first login (docs/reference-relay.md §2.2).
   * `user` is matched case-insensitively. Never blocks the event loop.
   * `protocol` "imap" records the last-login day (SMTP logins do not).
   * `clientIp` is the peer's address, for the per-address budgets (throttle.ts).
   */
  login(user: string, password: string, protocol: "imap" | "smtp", clientIp: string): Promise<LoginResult>;
  /** Whether `address` is a local account that exists now. */
  exists(address: string): Promise<boolean>;
}
