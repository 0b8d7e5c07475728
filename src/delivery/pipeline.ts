/**
 * The delivery pipeline: every entry point (SMTP submission, SMTP MX, HTTPS
 * /mxdeliv, internal bounces) hands `accept(envelope, message, origin)` the same
 * three things, and this one place decides, stores and sends.
 *
 * Implementation notes (invariants every path keeps):
 * - Decide first (policy/, pure), then change the message (rewrite, DKIM), then
 *   store; the positive reply is returned only after the store said "durable".
 * - Local delivery publishes on the event bus right after the commit, in the same
 *   tick: IMAP IDLE sessions write EXISTS without any delay.
 * - Unknown local recipients are never revealed at RCPT time; they get a
 *   DKIM-signed bounce from MAILER-DAEMON that keeps the original Message-ID.
 * - Nothing delivered or sent carries the sender's IP address.
 */
import { addressDomain, isIpDomain, isLocalDomain } from "../config/domain.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { checkIncoming, checkIpLiteral, checkOutgoing, checkSender } from "../policy/gate.ts";
import { Gcra } from "../policy/gcra.ts";
import { rewriteSubmitted } from "../policy/rewrite.ts";
import { isOutOfSpace } from "../store/full.ts";
import { buildBounce, type FailedRecipient } from "./bounce.ts";
import type { LocalDelivery } from "./local.ts";
import { type Envelope, type Origin, type Reply, splitAddress } from "./types.ts";

export interface DkimSigner {
  sign(message: Buffer): Promise<Buffer>;
}

export interface DkimVerifier {
  /** Strictly aligned DKIM pass for `fromDomain`, or the reply to refuse with. */
  verify(
    message: Buffer,
    fromDomain: string,
  ): Promise<{ ok: true } | { ok: false; code: number; text: string }>;
}

/** Hands messages for other domains to the outbound queue (federation). */
export interface Outbound {
  enqueue(envelope: Envelope, message: Buffer): Promise<void>;
}

export interface DeliveryDeps {
  config: Config;
  log: Logger;
  local: LocalDelivery;
  signer: DkimSigner | null;
  verifier: DkimVerifier | null;
  outbound: Outbound | null;
  now?: () => number;
  metrics?: Metrics;
}

const OK: Reply = { code: 250, text: "2.0.0 OK" };
/** RFC 5321 §4.2.3 452, RFC 3463 §3.5 X.3.1 "mail system full". */
const INSUFFICIENT_STORAGE: Reply = { code: 452, text: "4.3.1 Insufficient system storage" };

export class Delivery {
  private readonly limiter: Gcra;
  private readonly domain: string;

  constructor(private readonly deps: DeliveryDeps) {
    const c = deps.config;
    this.limiter = new Gcra({
      perMinute: c.max_user_send_per_minute,
      burst: c.max_user_send_burst_size,
      now: deps.now,
    });
    this.domain = addressDomain(c.mail_domain);
  }

  isLocal(address: string): boolean {
    return isLocalDomain(splitAddress(address).domain, this.deps.config.mail_domain);
  }

  /** Whether a recipient can be accepted at all (remote ones need the outbound queue). */
  canRoute(address: string): Reply | undefined {
    if (this.isLocal(address) || this.deps.outbound) return undefined;
    return { code: 451, text: "4.4.0 Delivery to other domains is not available on this relay yet" };
  }

  /** docs/reference-relay.md §3.3: MAIL FROM on submission: one "@", then GCRA per envelope sender. */
  admitSender(mailFrom: string): Reply | undefined {
    const v = checkSender(mailFrom, this.limiter, this.deps.now);
    return v.ok ? undefined : { code: v.code, text: v.text };
  }

  async accept(envelope: Envelope, message: Buffer, origin: Origin): Promise<Reply> {
    const started = performance.now();
    const reply = await this.decide(envelope, message, origin);
    const metrics = this.deps.metrics;
    if (metrics && origin.kind !== "internal") {
      metrics.replied(origin.kind === "submission" ? "outgoing" : "incoming", reply.code);
      // called when DATA has ended: this is the submitter's wait for the 250
      if (origin.kind === "submission" && reply.code < 300)
        metrics.submissionLatency.observe((performance.now() - started) / 1000);
    }
    return reply;
  }

  private async decide(envelope: Envelope, message: Buffer, origin: Origin): Promise<Reply> {
    try {
      if (origin.kind === "submission") return await this.submitted(envelope, message);
      if (origin.kind === "mx") return await this.incoming(envelope, message, origin.peerIp);
      return await this.route(envelope, message, true);
    } catch (err) {
      // the disk is full: nothing was stored; the sender keeps the message and retries (store/full.ts)
      if (isOutOfSpace(err)) return INSUFFICIENT_STORAGE;
      throw err;
    }
  }

  private async submitted(envelope: Envelope, message: Buffer): Promise<Reply> {
    const verdict = checkOutgoing({
      mailFrom: envelope.mailFrom,
      recipients: envelope.recipients,
      message,
      onFiltered: (what) => this.deps.metrics?.filtered("outgoing", what),
    });
    if (!verdict.ok) return this.refused(verdict);
    return this.route(envelope, rewriteSubmitted(message), true);
  }

  private async incoming(envelope: Envelope, message: Buffer, peerIp: string): Promise<Reply> {
    const local = envelope.recipients.filter((r) => this.isLocal(r));
    if (local.length === 0) return { code: 554, text: "5.7.1 Relay access denied" };
    const verdict = checkIncoming({
      mailFrom: envelope.mailFrom,
      recipients: local,
      message,
      // every account gets enforceE2EEincoming at creation (docs/reference-relay.md §3.4 step 5)
      enforceE2EE: () => true,
      onFiltered: (what) => this.deps.metrics?.filtered("incoming", what),
    });
    if (!verdict.ok) return this.refused(verdict);
    if (verdict.needs === "ip-literal") {
      const ip = checkIpLiteral(verdict.fromDomain, peerIp);
      if (!ip.ok) return { code: ip.code, text: ip.text };
    } else {
      if (!this.deps.verifier) return { code: 451, text: "4.7.0 DKIM verification unavailable" };
      const dkim = await this.deps.verifier.verify(message, verdict.fromDomain);
      if (!dkim.ok) return { code: dkim.code, text: dkim.text };
    }
    return this.route({ mailFrom: verdict.envelopeFrom, recipients: local }, message, false);
  }

  private refused(verdict: { code: number; text: string }): Reply {
    if (verdict.code === 523) this.deps.metrics?.rejectedUnencrypted.inc();
    return { code: verdict.code, text: verdict.text };
  }

  /**
   * Local recipients are stored now; remote ones go to the outbound queue, both
   * durably and at the same time. Only what leaves the relay is DKIM-signed
   * (`ours`: submitted mail and our bounces): local delivery strips the
   * signature anyway, so local-only mail skips the RSA work.
   */
  private async route(envelope: Envelope, message: Buffer, ours: boolean): Promise<Reply> {
    const local: string[] = [];
    const remote: string[] = [];
    for (const r of envelope.recipients) (this.isLocal(r) ? local : remote).push(r);
    if (remote.length && !this.deps.outbound) return this.canRoute(remote[0]!)!;
    const signer = ours ? this.deps.signer : null;
    const [, stored] = await Promise.all([
      remote.length
        ? (signer ? signer.sign(message) : Promise.resolve(message)).then((out) => {
            if (signer) this.deps.metrics?.dkimSigned.inc();
            return this.deps.outbound!.enqueue({ mailFrom: envelope.mailFrom, recipients: remote }, out);
          })
        : undefined,
      local.length ? this.deps.local.deliver(local, message, envelope.mailFrom) : undefined,
    ]);
    if (stored?.unknown.length && envelope.mailFrom !== "") {
      await this.bounce(
        envelope.mailFrom,
        message,
        stored.unknown.map((recipient) => ({
          recipient,
          status: "5.1.1",
          diagnostic: "550 5.1.1 Recipient address rejected: User unknown",
        })),
      );
    }
    return OK;
  }

  /** A DKIM-signed DSN to `to`; bounces themselves are never bounced. */
  async bounce(to: string, original: Buffer, failed: FailedRecipient[]): Promise<void> {
    if (to === "" || /^mailer-daemon@/i.test(to)) return;
    const dsn = buildBounce({
      domain: this.domain,
      reportingMta: isIpDomain(this.deps.config.mail_domain) ? this.domain : this.deps.config.mail_domain,
      to,
      original,
      failed,
    });
    try {
      await this.route({ mailFrom: "", recipients: [to] }, dsn, true);
      this.deps.metrics?.bounces.inc();
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, "could not deliver a bounce");
    }
  }
}
