/**
 * The in-process event bus: "a mailbox of user X changed". Protocol sessions
 * subscribe per user; whoever commits a change publishes after the commit.
 * Behind this small interface so that several nodes can share one later.
 */
import type { MessageRecord } from "../store/types.ts";

export type MailboxEvent =
  | {
      kind: "exists";
      address: string;
      mailboxId: number;
      records: MessageRecord[];
      origin?: unknown;
      /** Set for deliveries (not APPEND/COPY): the envelope sender, "" for bounces. */
      sender?: string;
      /** Deliveries: performance.now() when the store said durable (commit-to-EXISTS metric). */
      committedAt?: number;
    }
  | { kind: "expunge"; address: string; mailboxId: number; uids: number[]; origin?: unknown }
  | { kind: "flags"; address: string; mailboxId: number; records: MessageRecord[]; origin?: unknown }
  | { kind: "mailboxes"; address: string; origin?: unknown }
  /** The account is gone (expiry): its sessions end and cached logins are dropped. */
  | { kind: "account-removed"; address: string; origin?: unknown };

export type Listener = (event: MailboxEvent) => void;

export interface EventBus {
  publish(event: MailboxEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(address: string, listener: Listener): () => void;
  /** Every event of every user (push notifier, metrics). Returns the unsubscribe function. */
  subscribeAll(listener: Listener): () => void;
}

/** Synchronous fan-out: a publish reaches every listener before it returns. */
export class LocalEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly everything = new Set<Listener>();

  publish(event: MailboxEvent): void {
    const set = this.listeners.get(event.address);
    if (set) for (const listener of [...set]) listener(event);
    for (const listener of this.everything) listener(event);
  }

  subscribeAll(listener: Listener): () => void {
    this.everything.add(listener);
    return () => {
      this.everything.delete(listener);
    };
  }

  subscribe(address: string, listener: Listener): () => void {
    let set = this.listeners.get(address);
    if (!set) {
      set = new Set();
      this.listeners.set(address, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(address);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(address);
    };
  }
}
