/**
 * The durable outbound queue (docs/reference-relay.md §3.5, filtermail-transport).
 *
 * Implementation notes:
 * - A message for remote recipients is a store job per destination domain,
 *   written durably before the submitter gets its 250; it survives restarts.
 * - Per MX host in preference order: HTTPS POST /mxdeliv first (unless the host
 *   only worked over SMTP in the last 30 minutes), then SMTP with mandatory,
 *   verified STARTTLS. Only a recognisable /mxdeliv answer counts (https-channel.ts);
 *   a 2xx or 5xx one is final, anything else goes on with SMTP. Connection trouble
 *   moves on to the next host; an SMTP reply is final for that attempt.
 * - No requests to the inside: unless outbound_allow_private is set, hosts are
 *   contacted only on public addresses (address-class.ts); a destination with none
 *   bounces. Queue errors and bounces never carry raw socket errors (reasons.ts).
 * - Results are per recipient: delivered ones leave the job, permanent failures
 *   bounce at once, temporary ones retry with exponential backoff and jitter until
 *   max_queue_lifetime, then bounce. Bounces are never bounced.
 * - Memory stays bounded: jobs are read in pages, bodies only while in flight,
 *   and concurrency is capped per domain and in total.
 * - The schedule of due jobs lives in memory (`ready`): a queued message goes in
 *   as the store returns it, a finished attempt takes the next one from there.
 *   The store is read only by the periodic scan (retries coming due), on request
 *   (`poll`, `retryAll`), and when the schedule runs dry while the last page read
 *   was full; never once per delivered job.
 */
import { Agent } from "node:https";
import type { Config } from "../../config/types.ts";
import { isPublicAddress } from "../../dns/address-class.ts";
import type { DnsResolver } from "../../dns/resolver.ts";
import type { Logger } from "../../log.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import type { Job, Store } from "../../store/types.ts";
import type { FailedRecipient } from "../bounce.ts";
import type { Outbound } from "../pipeline.ts";
import { type Envelope, type Reply, splitAddress } from "../types.ts";
import { postMxdeliv } from "./https-channel.ts";
import { hostAddresses, ipLiteral, resolveDestination } from "./mx.ts";
import { SmtpPool } from "./smtp-channel.ts";

export const OUTBOUND_QUEUE = "outbound";
const SMTP_ONLY_MS = 30 * 60_000;
const MAX_IN_FLIGHT = 32;
const MAX_PER_DOMAIN = 16;
const SCAN_INTERVAL_MS = 5_000;
/** Due jobs read from the store at a time. */
const PAGE = 200;
/** Due jobs held in memory while waiting for a slot (payloads only, no bodies). */
const MAX_READY = 1000;
const TIMEOUT_MS = 60_000;
/**
 * The reply for a destination whose every address is loopback, private,
 * link-local, … (address-class.ts) while outbound_allow_private is off. Such
 * recipients are accepted at RCPT and bounced here rather than refused at RCPT:
 * only the queue resolves MX records (a lookup at RCPT would slow every
 * submission and fail on temporary DNS errors), records can change before
 * delivery, and the check must hold at the moment of connecting anyway.
 */
const NOT_PUBLIC: Reply = {
  code: 550,
  text: "5.4.4 Unable to route: the destination is not a public address",
};

export interface OutboundPayload {
  mailFrom: string;
  domain: string;
  recipients: string[];
  attempts: number;
  lastError?: string;
  /** When the message was queued, on the queue's clock (`now`): its lifetime counts from here. */
  queuedAt?: number;
}

export interface OutboundDeps {
  config: Config;
  store: Store;
  dns: DnsResolver;
  log: Logger;
  /** Called with recipients that failed for good; the pipeline sends the bounce. */
  onFailed: (mailFrom: string, message: Buffer, failed: FailedRecipient[]) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Extra trusted CAs (tests, private PKI). */
  ca?: string[];
  timeoutMs?: number;
  metrics?: Metrics;
}

/** Exponential backoff with ±25 % jitter: ~1 min, 2, 4, … capped at 1 h. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(60_000 * 2 ** attempts, 3_600_000);
  return Math.round(base * (0.75 + random() * 0.5));
}

function enhancedStatus(reply: Reply): string {
  const m = /^([245]\.\d{1,3}\.\d{1,3})/.exec(reply.text);
  if (m) return m[1]!;
  return reply.code >= 500 ? "5.0.0" : "4.0.0";
}

export class OutboundQueue implements Outbound {
  private readonly pool: SmtpPool;
  /** Keep-alive HTTPS connections for /mxdeliv, as many per host as a domain may use. */
  private readonly agent = new Agent({
    keepAlive: true,
    maxSockets: MAX_PER_DOMAIN,
    maxFreeSockets: MAX_PER_DOMAIN,
  });
  private readonly localAddress: string | undefined;
  private readonly inFlight = new Map<number, string>();
  /** The in-memory schedule: due jobs not yet started, in the order they came. */
  private readonly ready = new Map<number, Job>();
  /** The store may hold due jobs that are not in `ready` (a full page, or `ready` was full). */
  private more = false;
  /** Jobs that finished while a scan was reading: its page may still list them. */
  private readonly finishedDuringScan = new Set<number>();
  private readonly smtpOnly = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  private rescan = false;
  private stopped = true;
  private readonly running = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly deps: OutboundDeps) {
    this.now = deps.now ?? Date.now;
    this.pool = new SmtpPool(deps.config.mail_domain);
    const listen = deps.config.listen_address;
    // leave from the relay's own address when it listens on a specific one
    this.localAddress = listen === "0.0.0.0" || listen === "::" ? undefined : listen;
  }

  async enqueue(envelope: Envelope, message: Buffer): Promise<void> {
    const byDomain = new Map<string, string[]>();
    for (const r of envelope.recipients) {
      const { domain } = splitAddress(r);
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), r]);
    }
    const jobs = await Promise.all(
      [...byDomain].map(([domain, recipients]) => {
        const now = this.now();
        const payload: OutboundPayload = {
          mailFrom: envelope.mailFrom,
          domain,
          recipients,
          attempts: 0,
          queuedAt: now,
        };
        return this.deps.store.enqueue({ queue: OUTBOUND_QUEUE, payload, data: message, dueAt: now });
      }),
    );
    for (const job of jobs) this.schedule(job);
    this.dispatch();
  }

  /** Puts a due job on the in-memory schedule, unless it is running or the schedule is full. */
  private schedule(job: Job): void {
    if (this.inFlight.has(job.id) || this.ready.has(job.id)) return;
    if (this.ready.size >= MAX_READY) this.more = true;
    else this.ready.set(job.id, job);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), SCAN_INTERVAL_MS);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.running]);
    this.ready.clear();
    this.pool.close();
    this.agent.destroy();
  }

  /** Makes every queued job due now (operators: `chatrelay queue retry`; tests). */
  async retryAll(): Promise<void> {
    for (const job of await this.deps.store.listJobs(OUTBOUND_QUEUE)) {
      if (!this.inFlight.has(job.id))
        await this.deps.store.rescheduleJob(job.id, this.now(), job.lastError, job.payload);
    }
    this.kick();
  }

  /** Looks for due jobs now rather than at the next scan (tests with a clock of their own). */
  poll(): void {
    this.kick();
  }

  /** Resolves when nothing is due or in flight (tests). */
  async idle(): Promise<void> {
    while (this.running.size || this.scanning) await Promise.allSettled([...this.running, Promise.resolve()]);
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    this.scan()
      .catch((e: unknown) => this.deps.log.error({ err: e }, "outbound queue scan failed"))
      .finally(() => {
        this.scanning = false;
        if (this.rescan) {
          this.rescan = false;
          this.kick();
        }
      });
  }

  private async scan(): Promise<void> {
    this.finishedDuringScan.clear();
    const jobs = await this.deps.store.dueJobs(OUTBOUND_QUEUE, this.now(), PAGE);
    this.more = jobs.length >= PAGE;
    for (const job of jobs) if (!this.finishedDuringScan.has(job.id)) this.schedule(job);
    this.dispatch();
  }

  /** Starts scheduled jobs while the caps allow: at most MAX_PER_DOMAIN per domain, MAX_IN_FLIGHT in all. */
  private dispatch(): void {
    if (this.stopped) return;
    const perDomain = new Map<string, number>();
    for (const d of this.inFlight.values()) perDomain.set(d, (perDomain.get(d) ?? 0) + 1);
    for (const [id, job] of this.ready) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) break;
      const domain = (job.payload as OutboundPayload).domain;
      const sameDomain = perDomain.get(domain) ?? 0;
      if (sameDomain >= MAX_PER_DOMAIN) continue;
      perDomain.set(domain, sameDomain + 1);
      this.ready.delete(id);
      this.inFlight.set(id, domain);
      const p = this.attempt(job)
        .catch((e: unknown) => this.deps.log.error({ err: e }, "outbound attempt failed"))
        .finally(() => {
          this.inFlight.delete(id);
          this.running.delete(p);
          if (this.scanning) this.finishedDuringScan.add(id);
          this.dispatch();
        });
      this.running.add(p);
    }
    // the schedule ran dry but the store has more due jobs: read the next page
    if (!this.ready.size && this.more) this.kick();
  }

  private async attempt(scheduled: Job): Promise<void> {
    const { store, log } = this.deps;
    // the job as it is now: `chatrelay queue` may have removed it while it waited
    const job = await store.getJob(scheduled.id);
    if (!job) return;
    const payload = job.payload as OutboundPayload;
    const message = await store.readBlob(job.blobId!);
    const replies = await this.deliver(payload, message);
    const failed: FailedRecipient[] = [];
    const retry: string[] = [];
    let lastError = payload.lastError;
    let delivered = 0;
    for (const rcpt of payload.recipients) {
      const reply = replies.get(rcpt) ?? { code: 451, text: "4.4.1 No answer from any MX host" };
      if (reply.code >= 200 && reply.code < 300) {
        delivered++;
        continue;
      }
      if (reply.code >= 500)
        failed.push({
          recipient: rcpt,
          status: enhancedStatus(reply),
          diagnostic: `${reply.code} ${reply.text}`,
        });
      else {
        retry.push(rcpt);
        lastError = `${reply.code} ${reply.text}`;
      }
    }
    const lifetimeMs = (this.deps.config.max_queue_lifetime ?? 2 * 86400) * 1000;
    // the store stamps createdAt with the wall clock; the lifetime runs on the queue's own
    const queuedAt = payload.queuedAt ?? job.createdAt;
    const expired = this.now() - queuedAt >= lifetimeMs;
    if (retry.length && expired) {
      for (const rcpt of retry.splice(0))
        failed.push({
          recipient: rcpt,
          status: "4.4.7",
          diagnostic: `${lastError ?? "451 4.4.7 Delivery time expired"} (gave up after the queue lifetime)`,
        });
    }
    const metrics = this.deps.metrics;
    if (metrics) {
      if (delivered) {
        metrics.outbound.inc({ result: "delivered" }, delivered);
        metrics.outboundDelivery.observe(Math.max(0, this.now() - queuedAt) / 1000);
      }
      if (failed.length) metrics.outbound.inc({ result: "bounced" }, failed.length);
      if (retry.length) metrics.outbound.inc({ result: "deferred" }, retry.length);
    }
    if (failed.length) {
      // The recipient domain says who writes to whom: debug only (src/log.ts).
      log.info({ count: failed.length }, "outbound: permanent failure, bouncing");
      log.debug({ domain: payload.domain }, "outbound: bouncing");
      await this.deps.onFailed(payload.mailFrom, message, failed);
    }
    if (retry.length) {
      const next: OutboundPayload = {
        ...payload,
        recipients: retry,
        attempts: payload.attempts + 1,
        lastError,
      };
      const delay = retryDelayMs(payload.attempts, this.deps.random);
      log.info({ count: retry.length, retry_in_s: Math.round(delay / 1000) }, "outbound: deferred");
      log.debug({ domain: payload.domain }, "outbound: deferred");
      await store.rescheduleJob(job.id, this.now() + delay, lastError ?? null, next);
    } else {
      await store.deleteJob(job.id);
    }
  }

  /** One delivery attempt for a job: the reply for each recipient that got one. */
  private async deliver(payload: OutboundPayload, message: Buffer): Promise<Map<string, Reply>> {
    const { config, dns, log } = this.deps;
    const replies = new Map<string, Reply>();
    const all = (reply: Reply) => {
      for (const r of payload.recipients) replies.set(r, reply);
      return replies;
    };
    const dest = await resolveDestination(payload.domain, dns);
    if (dest.kind !== "hosts") return all(dest.reply);
    const relaxed = payload.domain.startsWith("_") || ipLiteral(payload.domain) !== undefined;
    const envelope = { mailFrom: payload.mailFrom, recipients: payload.recipients };
    const timeoutMs = this.deps.timeoutMs ?? TIMEOUT_MS;
    // texts here end up in bounces: the remote server's reply or a generic reason (reasons.ts)
    let lastError: Reply = { code: 451, text: "4.4.1 No MX host reachable" };
    let forbiddenOnly = true;
    for (const host of dest.hosts) {
      const found = await hostAddresses(host, dns);
      const addresses = config.outbound_allow_private ? found : found.filter(isPublicAddress);
      if (found.length && !addresses.length) {
        // RFC 5321 §5.1: an unusable MX is skipped; a private destination is never
        // contacted (no requests to the inside) and counts as a permanent failure
        log.debug({ host }, "outbound: skipping a host without a public address");
        continue;
      }
      forbiddenOnly = false;
      if (!addresses.length) {
        lastError = { code: 451, text: `4.4.3 No address for ${host}` };
        continue;
      }
      const smtpOnlyUntil = this.smtpOnly.get(host) ?? 0;
      if (smtpOnlyUntil <= this.now() && config.outbound_https_port > 0) {
        for (const address of addresses) {
          const target = {
            name: host,
            address,
            port: config.outbound_https_port,
            rejectUnauthorized: !relaxed,
            ca: this.deps.ca,
            timeoutMs,
            localAddress: this.localAddress,
            agent: this.agent,
          };
          const r = await postMxdeliv(target, envelope, message);
          if (r.kind === "unavailable") {
            log.debug({ host, detail: r.detail }, "outbound: no /mxdeliv answer, trying SMTP");
            lastError = { code: 451, text: `4.4.1 ${host}: ${r.reason}` };
            continue;
          }
          const { reply } = r;
          if (reply.code < 300) return all({ code: 250, text: "2.0.0 OK (HTTPS)" });
          // a permanent rejection by the remote relay is final; a temporary one may pass over SMTP
          if (reply.code >= 500) return all(reply);
          lastError = reply;
          break;
        }
      }
      if (config.outbound_smtp_port <= 0) continue;
      for (const address of addresses) {
        const target = {
          name: host,
          address,
          port: config.outbound_smtp_port,
          rejectUnauthorized: !relaxed,
          ca: this.deps.ca,
          timeoutMs,
          localAddress: this.localAddress,
        };
        const r = await this.pool.send(target, envelope, message);
        if (r.kind === "unreachable") {
          log.debug({ host, detail: r.detail }, "outbound: SMTP connection failed");
          lastError = { code: 451, text: `4.4.1 ${host}: ${r.error}` };
          this.smtpOnly.delete(host);
          continue;
        }
        if ([...r.replies.values()].some((x) => x.code < 300))
          this.smtpOnly.set(host, this.now() + SMTP_ONLY_MS);
        return r.replies;
      }
    }
    // every host (or the address literal) is inside: nothing will ever be reachable
    if (forbiddenOnly && dest.hosts.length) return all(NOT_PUBLIC);
    return all(lastError);
  }
}
