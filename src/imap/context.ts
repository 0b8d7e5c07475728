/** What every session of one ImapServer shares (one object, referenced by each session). */
import type { SecureContext } from "node:tls";
import type { Accounts } from "../accounts/types.ts";
import type { Config } from "../config/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { BodyBudget } from "../net/body-budget.ts";
import type { Store } from "../store/types.ts";

export interface SessionLike {
  /** Called about once a second by the server's sweep; handles timeouts and IDLE keep-alives. */
  tick(now: number): void;
  /** Says BYE and closes. */
  shutdown(text: string): void;
}

export interface ServerContext {
  config: Config;
  store: Store;
  accounts: Accounts;
  bus: EventBus;
  log: Logger;
  /** The current TLS context (STARTTLS upgrades use it; replaced by setCertificate). */
  secureContext: SecureContext;
  /** Every open session. */
  sessions: Set<SessionLike>;
  /** Open logged-in sessions per "address\0ip" (mail_max_userip_connections). */
  userIp: Map<string, number>;
  /** Per mailbox id, the lowest UID no session has claimed as \Recent (see MailboxView). */
  recentFloor: Map<number, number>;
  /** Message bodies in memory (APPEND literals), shared with SMTP and /mxdeliv. */
  bodies: BodyBudget;
  /** Tunables; tests may shorten them. */
  limits: SessionLimits;
  metrics?: Metrics;
}

export interface SessionLimits {
  /** Longest command line segment. */
  maxLine: number;
  /** Largest literal outside APPEND. */
  maxLiteral: number;
  /** Logged-in connections per user and IP address. */
  maxUserIp: number;
  /** ms without a command before login (config preauth_timeout). */
  preLoginTimeout: number;
  /** ms from connecting to login, however busy the client (PRELOGIN_LIFETIMES × preLoginTimeout by default). */
  preLoginLifetime?: number;
  /** ms a TLS handshake may take, on 993 and after STARTTLS (config tls_handshake_timeout). */
  handshakeTimeout: number;
  /** ms one command may keep the session busy without output progress (a store wait). */
  commandTimeout: number;
  /** ms without a command after login (outside IDLE); RFC 3501 §5.4 asks for at least 30 minutes. */
  autologout: number;
  /** Delay before answering a failed login, ms: [min, max). */
  failedLoginDelay: [number, number];
  /** How often the server checks timeouts and IDLE keep-alives, ms. */
  sweepInterval: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  maxLine: 64 * 1024,
  maxLiteral: 64 * 1024,
  maxUserIp: 20,
  preLoginTimeout: 60_000,
  handshakeTimeout: 10_000,
  commandTimeout: 2 * 60_000,
  autologout: 30 * 60_000,
  failedLoginDelay: [1000, 2000],
  sweepInterval: 1000,
};
