/**
 * Local delivery: strip transport headers, make room under the quota, store
 * durably, then tell the IMAP sessions (and the push notifier) at once.
 */
import type { Config } from "../config/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { stripForLocalDelivery } from "../policy/rewrite.ts";
import type { Store } from "../store/types.ts";

/** docs/reference-relay.md §2.7: never trim messages younger than a day. */
const KEEP_YOUNGER_THAN_MS = 24 * 3600 * 1000;
/** Trim to 70 % of the limit, as chatmail-quota-expire does. */
const TRIM_TARGET = 0.7;

export interface LocalResult {
  delivered: string[];
  /** Recipients of our domain without an account. */
  unknown: string[];
}

export class LocalDelivery {
  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly metrics?: Metrics,
  ) {}

  async deliver(recipients: string[], message: Buffer, sender: string): Promise<LocalResult> {
    const unique = [...new Set(recipients.map((r) => r.toLowerCase()))];
    const data = stripForLocalDelivery(message);
    await Promise.all(unique.map((r) => this.makeRoom(r, data.length)));
    const stored = await this.store.deliver(unique, { data, internalDate: this.now() });
    const committedAt = performance.now();
    const from = sender.toLowerCase();
    for (const [address, record] of stored) {
      this.bus.publish({
        kind: "exists",
        address,
        mailboxId: record.mailboxId,
        records: [record],
        sender: from,
        committedAt,
      });
    }
    this.metrics?.deliveredMail.inc(stored.size);
    return {
      delivered: [...stored.keys()],
      unknown: unique.filter((r) => !stored.has(r)),
    };
  }

  /**
   * Quota never bounces mail: when this delivery would pass max_mailbox_size,
   * the oldest messages older than 24 h go until usage is at 70 % (docs/reference-relay.md §2.7).
   */
  private async makeRoom(address: string, incoming: number): Promise<void> {
    const limit = this.config.max_mailbox_size;
    const used = await this.store.usedBytes(address);
    if (used + incoming <= limit) return;
    this.metrics?.quotaExceeded.inc();
    const target = limit * TRIM_TARGET - incoming;
    const cutoff = this.now() - KEEP_YOUNGER_THAN_MS;
    const victims = new Map<number, number[]>();
    let total = used;
    for (const m of await this.store.listAccountMessages(address)) {
      if (total <= target) break;
      if (m.internalDate > cutoff) continue;
      total -= m.size;
      const uids = victims.get(m.mailboxId) ?? [];
      uids.push(m.uid);
      victims.set(m.mailboxId, uids);
    }
    let removed = 0;
    for (const [mailboxId, uids] of victims) {
      const gone = await this.store.expunge(mailboxId, uids);
      removed += gone.length;
      if (gone.length) this.bus.publish({ kind: "expunge", address, mailboxId, uids: gone });
    }
    if (removed) {
      this.log.info({ removed }, "quota: removed old messages to make room");
      this.metrics?.quotaExpireRuns.inc();
      this.metrics?.quotaExpireRemovedFiles.inc(removed);
    }
  }
}
