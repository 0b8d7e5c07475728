/**
 * The relay's Prometheus metrics: one registry per relay (several relays in one
 * test process never share counts), rendered by the listener on mtail_address
 * (listener.ts). A low room: it imports nothing of the relay's, so any room can
 * count without an upward arrow; rooms receive the Metrics object in their deps.
 *
 * The counters keep the names of the reference relay's mtail program
 * (chatmail/relay, cmdeploy/src/cmdeploy/mtail/delivered_mail.mtail), so
 * dashboards made for it keep working; chatrelay's own metrics start with
 * `chatrelay_`. Labels are fixed small enums only (protocol, direction, result,
 * …): never an address, a user name or an IP.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Listeners as counted by the connections gauge (443's ALPN IMAP/SMTP count as https). */
export type Protocol = "imap" | "submission" | "mx" | "https" | "http";
export type Direction = "incoming" | "outgoing";
/** What the encryption gate saw (filtermail's "Filtering … mail" log lines). */
export type MailClass = "encrypted" | "unencrypted" | "mailer-daemon";
export type MailResult = "accepted" | "deferred" | "rejected";
export type OutboundResult = "delivered" | "deferred" | "bounced";

/** Read at scrape time: the rooms that know these numbers hand in functions. */
export interface GaugeSources {
  connections?: () => Promise<Partial<Record<Protocol, number>>>;
  idleSessions?: () => number;
  outboundQueue?: () => Promise<number>;
  pushQueue?: () => Promise<number>;
}

/** Latency buckets in seconds; commit-to-EXISTS is in-process and sub-millisecond. */
const FAST = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const SUBMISSION = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const OUTBOUND = [0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 2 * 86400];

export class Metrics {
  readonly registry = new Registry();
  private readonly sources: GaugeSources = {};
  private processMetrics = false;

  // --- the reference relay's mtail counters ---
  /** Messages stored into a local INBOX, one per recipient (Dovecot's "saved mail to INBOX"). */
  readonly deliveredMail = this.counter(
    "delivered_mail",
    "Messages stored into a local INBOX (per recipient).",
  );
  /** Deliveries that found the mailbox over max_mailbox_size (chatrelay trims instead of refusing). */
  readonly quotaExceeded = this.counter(
    "quota_exceeded",
    "Deliveries that would have passed max_mailbox_size (old messages are trimmed instead of refusing).",
  );
  readonly dkimSigned = this.counter("dkim_signed", "Messages DKIM-signed on their way out.");
  readonly createdAccounts = this.counter("created_accounts", "Accounts created by a first login.");
  readonly rejectedRegistrations = this.counter(
    "rejected_registrations",
    "First logins refused because account creation is off or over the load, memory or disk limits.",
  );
  readonly outgoingEncrypted = this.counter(
    "outgoing_encrypted_mail_count",
    "Submitted messages the gate saw encrypted (or Secure-Join).",
  );
  readonly outgoingUnencrypted = this.counter(
    "outgoing_unencrypted_mail_count",
    "Submitted messages the gate saw unencrypted (accepted or rejected).",
  );
  readonly filteredOutgoing = this.counter(
    "filtered_outgoing_mail_count",
    "Submitted messages that reached the encryption check.",
  );
  readonly incomingEncrypted = this.counter(
    "incoming_encrypted_mail_count",
    "Messages from other servers the gate saw encrypted (or Secure-Join).",
  );
  readonly incomingUnencrypted = this.counter(
    "incoming_unencrypted_mail_count",
    "Messages from other servers the gate saw unencrypted (accepted or rejected).",
  );
  readonly incomingMailerDaemon = this.counter(
    "incoming_mailer_daemon_mail_count",
    "Cleartext delivery reports from other servers' MAILER-DAEMON.",
  );
  readonly filteredIncoming = this.counter(
    "filtered_incoming_mail_count",
    "Messages from other servers that reached the encryption check.",
  );
  readonly rejectedUnencrypted = this.counter(
    "rejected_unencrypted_mail_count",
    "Messages refused with 523 Encryption Needed, both directions.",
  );
  readonly quotaExpireRuns = this.counter(
    "quota_expire_runs",
    "Quota trims that removed messages to make room for a delivery.",
  );
  readonly quotaExpireRemovedFiles = this.counter(
    "quota_expire_removed_files",
    "Messages removed by quota trims.",
  );

  // --- chatrelay's own ---
  readonly mail = new Counter({
    name: "chatrelay_mail_total",
    help: "Messages offered to the delivery pipeline, by direction and the reply's class.",
    labelNames: ["direction", "result"] as const,
    registers: [this.registry],
  });
  readonly bounces = this.counter("chatrelay_bounces_total", "Delivery status notifications sent.");
  readonly outbound = new Counter({
    name: "chatrelay_outbound_recipients_total",
    help: "Outbound delivery attempts per recipient, by result.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly expiryRuns = this.counter("chatrelay_expiry_runs_total", "Daily retention runs.");
  readonly expiryRemovedMessages = this.counter(
    "chatrelay_expiry_removed_messages_total",
    "Messages removed by retention runs (incl. those of removed accounts).",
  );
  readonly expiryRemovedAccounts = this.counter(
    "chatrelay_expiry_removed_accounts_total",
    "Inactive accounts removed by retention runs.",
  );
  readonly commitToExists = this.histogram(
    "chatrelay_commit_to_exists_seconds",
    "From a delivery's durable store commit to the EXISTS line written to an IMAP session in IDLE.",
    FAST,
  );
  readonly submissionLatency = this.histogram(
    "chatrelay_submission_seconds",
    "Submitted messages: from the end of DATA to the positive reply (gate, DKIM, durable store).",
    SUBMISSION,
  );
  readonly outboundDelivery = this.histogram(
    "chatrelay_outbound_delivery_seconds",
    "From entering the outbound queue to delivered at the remote server (per queue job).",
    OUTBOUND,
  );

  constructor() {
    const sources = this.sources;
    new Gauge({
      name: "chatrelay_connections",
      help: "Open connections per protocol.",
      labelNames: ["protocol"] as const,
      registers: [this.registry],
      async collect() {
        const counts = await sources.connections?.();
        if (!counts) return;
        for (const [protocol, n] of Object.entries(counts)) this.set({ protocol }, n ?? 0);
      },
    });
    this.sampled("chatrelay_idle_sessions", "IMAP sessions in IDLE.", () => sources.idleSessions?.());
    this.sampled(
      "chatrelay_outbound_queue_size",
      "Jobs in the outbound queue (one per destination domain).",
      () => sources.outboundQueue?.(),
    );
    this.sampled("chatrelay_push_queue_size", "Pending push notifications.", () => sources.pushQueue?.());
  }

  /** Where the gauges read their values from (called once the rooms exist). */
  sample(sources: GaugeSources): void {
    Object.assign(this.sources, sources);
  }

  /**
   * prom-client's process metrics (event-loop delay, memory, CPU, file
   * descriptors, GC) into this registry; only for a relay that serves metrics.
   */
  enableProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** A message the encryption gate classified (filtermail's "Filtering … mail"). */
  filtered(direction: Direction, what: MailClass): void {
    if (direction === "outgoing") {
      this.filteredOutgoing.inc();
      (what === "encrypted" ? this.outgoingEncrypted : this.outgoingUnencrypted).inc();
      return;
    }
    this.filteredIncoming.inc();
    if (what === "encrypted") this.incomingEncrypted.inc();
    else if (what === "mailer-daemon") this.incomingMailerDaemon.inc();
    else this.incomingUnencrypted.inc();
  }

  /** A reply of the delivery pipeline (SMTP code classes: 2xx, 4xx, 5xx). */
  replied(direction: Direction, code: number): void {
    const result: MailResult = code < 300 ? "accepted" : code < 500 ? "deferred" : "rejected";
    this.mail.inc({ direction, result });
  }

  /** The Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }

  private histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  private sampled(name: string, help: string, read: () => Promise<number> | number | undefined): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const n = await read();
        if (n !== undefined) this.set(n);
      },
    });
  }
}
