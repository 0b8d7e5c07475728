/**
 * Push notifications (docs/reference-relay.md §2.4-2.5, §6): when a
 * message from someone else reaches a user's INBOX, each of the user's valid
 * device tokens is POSTed, as the raw body, to push_url (the notification
 * proxy). 200 = done, 410 = token gone (deleted), anything else or no answer
 * within 60 s = retry after 8 s, 64 s, 512 s, 4096 s, within 5 h of the first
 * try.
 *
 * Implementation notes:
 * - The bus listener only starts an enqueue and returns: delivery never waits
 *   for notifications.
 * - The queue is the store's durable job queue "push", one job per (address,
 *   token) (dedup key), so a burst of deliveries collapses into one pending
 *   notification and pending ones survive a restart.
 * - A delivery that arrives while that token's notification is in flight marks
 *   it dirty: after a successful POST the job runs once more, so the device
 *   never misses the later message.
 * - On stop, requests in flight are aborted and their jobs stay for the next start.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config/types.ts";
import type { EventBus, MailboxEvent } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { Job, Store } from "../store/types.ts";
import { DROP_DEADLINE_MS, nextTry, tokenIsValid } from "./schedule.ts";

export const PUSH_QUEUE = "push";

export interface PushDeps {
  config: Config;
  store: Store;
  bus: EventBus;
  log: Logger;
  /** Clock in Unix milliseconds (tests). */
  now?: () => number;
  fetch?: typeof fetch;
  /** Per-request timeout; default 60 s. */
  timeoutMs?: number;
  /** Requests in flight at most; default 16. */
  concurrency?: number;
}

/** What a job of the "push" queue carries. */
export interface PushPayload {
  address: string;
  token: string;
  /** Unix ms of the first try, once there was one. */
  firstTry?: number;
  /** Failed tries so far. */
  failures?: number;
}

export function pushJobKey(address: string, token: string): string {
  return createHash("sha256").update(address).update("\0").update(token).digest("base64url");
}

function isPayload(p: unknown): p is PushPayload {
  const o = p as PushPayload | null;
  return typeof o === "object" && o !== null && typeof o.address === "string" && typeof o.token === "string";
}

type Outcome = { kind: "done" } | { kind: "gone" } | { kind: "failed"; error: string } | { kind: "aborted" };

export class PushNotifier {
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly inFlight = new Map<number, { dirty: boolean; abort: AbortController }>();
  /** Jobs waiting for a retry: id -> due time. */
  private readonly waiting = new Map<number, number>();
  private readonly pending = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pumping = false;
  private again = false;
  private running = false;

  constructor(private readonly deps: PushDeps) {
    this.now = deps.now ?? Date.now;
    this.fetch = deps.fetch ?? globalThis.fetch;
    this.timeoutMs = deps.timeoutMs ?? 60_000;
    this.concurrency = deps.concurrency ?? 16;
  }

  async start(): Promise<void> {
    if (this.running || !this.deps.config.push_url) return;
    this.running = true;
    this.unsubscribe = this.deps.bus.subscribeAll((e) => this.onEvent(e));
    // notifications pending from before a restart
    for (const job of await this.deps.store.listJobs(PUSH_QUEUE)) this.waiting.set(job.id, job.dueAt);
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    for (const f of this.inFlight.values()) f.abort.abort();
    await this.settle();
    this.waiting.clear();
  }

  /** Runs whatever is due now and waits until nothing is left in flight (tests, benchmarks). */
  async poll(): Promise<void> {
    this.kick();
    await this.settle();
  }

  /** Waits until no enqueue or request is outstanding. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((e: unknown) =>
      this.deps.log.error({ err: (e as Error).message }, "push: internal error"),
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private onEvent(e: MailboxEvent): void {
    // deliveries only (not APPEND/COPY), and not the user's own copies (docs/reference-relay.md §2.5)
    if (e.kind !== "exists" || e.sender === undefined) return;
    if (e.sender.toLowerCase() === e.address.toLowerCase()) return;
    this.track(this.enqueueFor(e.address));
  }

  private async enqueueFor(address: string): Promise<void> {
    const { store } = this.deps;
    const now = this.now();
    const tokens = (await store.getDeviceTokens(address)).filter((t) => tokenIsValid(t.updatedAt, now));
    if (tokens.length === 0 || !this.running) return;
    for (const t of tokens) {
      const payload: PushPayload = { address, token: t.token };
      const job = await store.enqueue({
        queue: PUSH_QUEUE,
        key: pushJobKey(address, t.token),
        payload,
        dueAt: now,
      });
      const flight = this.inFlight.get(job.id);
      if (flight) flight.dirty = true;
      else if (!this.waiting.has(job.id)) this.waiting.set(job.id, job.dueAt);
    }
    this.kick();
  }

  private kick(): void {
    if (this.running) this.track(this.pump());
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (this.running && this.inFlight.size < this.concurrency) {
          const free = this.concurrency - this.inFlight.size;
          const due = await this.deps.store.dueJobs(PUSH_QUEUE, this.now(), this.inFlight.size + free);
          const fresh = due.filter((j) => !this.inFlight.has(j.id)).slice(0, free);
          if (fresh.length === 0) break;
          for (const job of fresh) this.dispatch(job);
        }
      } while (this.again && this.running);
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  /** Sets the timer for the earliest retry. */
  private arm(): void {
    if (!this.running) return;
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.waiting.values()) if (at < next) next = at;
    if (next === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(0, next - this.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.kick();
    }, delay);
    this.timer.unref();
  }

  private dispatch(job: Job): void {
    const abort = new AbortController();
    this.inFlight.set(job.id, { dirty: false, abort });
    this.waiting.delete(job.id);
    this.track(
      this.attempt(job, abort.signal).finally(() => {
        this.inFlight.delete(job.id);
        this.kick();
      }),
    );
  }

  private async attempt(job: Job, stop: AbortSignal): Promise<void> {
    const { store, log } = this.deps;
    if (!isPayload(job.payload)) {
      await store.deleteJob(job.id);
      return;
    }
    const p = job.payload;
    const now = this.now();
    const firstTry = p.firstTry ?? now;
    if (now > firstTry + DROP_DEADLINE_MS) {
      log.info("push: notification exceeded deadline");
      await store.deleteJob(job.id);
      return;
    }
    const token = (await store.getDeviceTokens(p.address)).find((t) => t.token === p.token);
    if (!token || !tokenIsValid(token.updatedAt, now)) {
      await store.deleteJob(job.id);
      return;
    }
    const outcome = await this.post(p.token, stop);
    if (outcome.kind === "aborted") return; // stopping: the job stays for the next start
    const dirty = this.inFlight.get(job.id)?.dirty ?? false;
    if (outcome.kind === "done") {
      log.debug("push: notified");
      // a delivery during the request: notify once more, as a fresh notification
      if (dirty) await store.rescheduleJob(job.id, this.now(), null, { address: p.address, token: p.token });
      else await store.deleteJob(job.id);
      return;
    }
    if (outcome.kind === "gone") {
      log.debug("push: token gone");
      await store.deleteDeviceToken(p.address, p.token);
      await store.deleteJob(job.id);
      return;
    }
    const failures = (p.failures ?? 0) + 1;
    const at = nextTry(failures, firstTry, this.now());
    if (at === undefined) {
      log.info({ error: outcome.error, failures }, "push: notification dropped after retries");
      await store.deleteJob(job.id);
      return;
    }
    log.debug({ error: outcome.error, failures }, "push: will retry");
    await store.rescheduleJob(job.id, at, outcome.error, { ...p, firstTry, failures });
    this.waiting.set(job.id, at);
  }

  private async post(token: string, stop: AbortSignal): Promise<Outcome> {
    const signal = AbortSignal.any([stop, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const res = await this.fetch(this.deps.config.push_url, { method: "POST", body: token, signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 200) return { kind: "done" };
      if (res.status === 410) return { kind: "gone" };
      return { kind: "failed", error: `HTTP ${res.status}` };
    } catch (e) {
      if (stop.aborted) return { kind: "aborted" };
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === "TimeoutError") return { kind: "failed", error: "timeout" };
      return { kind: "failed", error: err.cause?.code ?? err.message };
    }
  }
}
