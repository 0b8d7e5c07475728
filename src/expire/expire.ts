/**
 * Retention (docs/reference-relay.md §2.6, chatmail-expire), run daily and by `chatrelay expire`:
 * 1. accounts without an IMAP login for delete_inactive_users_after days vanish;
 * 2. any message older than delete_mails_after days is deleted;
 * 3. messages over 200 kB that were read (\Seen) are deleted after delete_large_after days;
 * 4. accounts over 75 % of max_mailbox_size are trimmed, oldest first, to 70 %,
 *    never touching messages younger than a day.
 * Deletions are published on the event bus so IMAP sessions see EXPUNGE; a
 * removed account's sessions end ("account-removed") and its cached login is dropped.
 */
import type { Config } from "../config/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { MessageRecord, Store } from "../store/types.ts";

const DAY_MS = 86_400_000;
const LARGE = 200_000;

export interface ExpiryReport {
  accounts: number;
  accountsRemoved: number;
  messages: number;
  messagesRemoved: number;
}

export interface ExpiryOptions {
  config: Config;
  store: Store;
  bus: EventBus;
  log: Logger;
  /** Unix ms; default now. */
  now?: number;
  /** Report only, change nothing. */
  dryRun?: boolean;
  metrics?: Metrics;
}

/** Which messages of one account go, by the rules above (pure). */
export function selectExpired(messages: MessageRecord[], config: Config, now: number): MessageRecord[] {
  const gone = new Set<MessageRecord>();
  const old = now - config.delete_mails_after * DAY_MS;
  const oldLarge = now - config.delete_large_after * DAY_MS;
  for (const m of messages) {
    if (m.internalDate < old) gone.add(m);
    else if (m.size > LARGE && m.internalDate < oldLarge && m.flags.includes("\\Seen")) gone.add(m);
  }
  let used = 0;
  for (const m of messages) if (!gone.has(m)) used += m.size;
  if (used > config.max_mailbox_size * 0.75) {
    const target = config.max_mailbox_size * 0.7;
    const young = now - DAY_MS;
    const oldestFirst = messages.filter((m) => !gone.has(m)).sort((a, b) => a.internalDate - b.internalDate);
    for (const m of oldestFirst) {
      if (used <= target) break;
      if (m.internalDate > young) continue;
      gone.add(m);
      used -= m.size;
    }
  }
  return [...gone];
}

export async function expire(opts: ExpiryOptions): Promise<ExpiryReport> {
  const { config, store, bus, log } = opts;
  const now = opts.now ?? Date.now();
  const report: ExpiryReport = { accounts: 0, accountsRemoved: 0, messages: 0, messagesRemoved: 0 };
  const inactiveBefore = now - config.delete_inactive_users_after * DAY_MS;
  for (const account of await store.listAccounts()) {
    report.accounts++;
    const messages = await store.listAccountMessages(account.address);
    report.messages += messages.length;
    const lastSeen = (account.lastLoginDay || account.createdAt) * 1000;
    if (lastSeen < inactiveBefore) {
      report.accountsRemoved++;
      report.messagesRemoved += messages.length;
      if (!opts.dryRun) {
        await store.deleteAccount(account.address);
        bus.publish({ kind: "account-removed", address: account.address });
      }
      continue;
    }
    const victims = selectExpired(messages, config, now);
    report.messagesRemoved += victims.length;
    if (opts.dryRun || victims.length === 0) continue;
    const byMailbox = new Map<number, number[]>();
    for (const m of victims) byMailbox.set(m.mailboxId, [...(byMailbox.get(m.mailboxId) ?? []), m.uid]);
    for (const [mailboxId, uids] of byMailbox) {
      const removed = await store.expunge(mailboxId, uids);
      if (removed.length)
        bus.publish({ kind: "expunge", address: account.address, mailboxId, uids: removed });
    }
  }
  log.info(report, opts.dryRun ? "expiry (dry run)" : "expiry done");
  if (!opts.dryRun && opts.metrics) {
    opts.metrics.expiryRuns.inc();
    opts.metrics.expiryRemovedMessages.inc(report.messagesRemoved);
    opts.metrics.expiryRemovedAccounts.inc(report.accountsRemoved);
  }
  return report;
}

/** The clock and timer the daily run uses (tests replace them). */
export interface ExpiryClock {
  now(): number;
  setTimeout(run: () => void, ms: number): { unref?(): unknown };
  clearTimeout(handle: unknown): void;
}

const realClock: ExpiryClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Runs `expire` once a day at 00:02 UTC, like the reference relay's timer. */
export class ExpiryTimer {
  private timer: unknown;
  constructor(
    private readonly opts: Omit<ExpiryOptions, "now" | "dryRun">,
    private readonly clock: ExpiryClock = realClock,
  ) {}

  start(): void {
    const now = new Date(this.clock.now());
    const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 0, 2);
    const timer = this.clock.setTimeout(() => {
      expire({ ...this.opts, now: this.clock.now() }).catch((e: unknown) =>
        this.opts.log.error({ err: e }, "expiry failed"),
      );
      this.start();
    }, next - now.getTime());
    timer.unref?.();
    this.timer = timer;
  }

  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}
