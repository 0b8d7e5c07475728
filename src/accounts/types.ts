/** The accounts contract used by IMAP, SMTP and HTTP. */

export type LoginFailure =
  /** Wrong password for an existing account, or a name we never create. */
  | "invalid"
  /** The account does not exist and creation is switched off or over limits. */
  | "nocreate";

export type LoginResult =
  | { ok: true; address: string; created: boolean }
  | { ok: false; reason: LoginFailure; detail: string };

export interface Accounts {
  /**
   * Verifies a login, creating the account on first login (reference §2.2).
   * `user` is matched case-insensitively. Never blocks the event loop.
   * `protocol` "imap" records the last-login day (SMTP logins do not).
   */
  login(user: string, password: string, protocol: "imap" | "smtp"): Promise<LoginResult>;
  /** Whether `address` is a local account that exists now. */
  exists(address: string): Promise<boolean>;
}
