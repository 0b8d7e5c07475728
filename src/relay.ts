/**
 * The composition root: builds every room from one Config, starts the
 * listeners, and stops them again. Nothing else wires rooms together.
 */
import { chmod, mkdir, stat } from "node:fs/promises";
import type { AddressInfo, Server } from "node:net";
import { AccountService } from "./accounts/accounts.ts";
import type { Config } from "./config/types.ts";
import { createSigner, createVerifier } from "./delivery/dkim.ts";
import { LocalDelivery } from "./delivery/local.ts";
import { OUTBOUND_QUEUE, OutboundQueue } from "./delivery/outbound/queue.ts";
import { Delivery } from "./delivery/pipeline.ts";
import { addressClass } from "./dns/address-class.ts";
import { createResolver } from "./dns/resolver.ts";
import { LocalEventBus } from "./events/bus.ts";
import { ExpiryTimer } from "./expire/expire.ts";
import { HttpService } from "./http/server.ts";
import { ImapServer } from "./imap/server.ts";
import type { Logger } from "./log.ts";
import { listenMetrics } from "./metrics/listener.ts";
import type { Metrics, Protocol } from "./metrics/metrics.ts";
import { BodyBudget } from "./net/body-budget.ts";
import { PUSH_QUEUE, PushNotifier } from "./push/notifier.ts";
import { SmtpService } from "./smtp/server.ts";
import { openStore } from "./store/open.ts";
import type { Store } from "./store/types.ts";
import type { AcmeManager } from "./tls/acme.ts";
import { loadTlsMaterial, StartupError } from "./tls/material.ts";

export { StartupError };

export type ListenerName =
  | "smtp"
  | "submission"
  | "submissions"
  | "imap"
  | "imaps"
  | "https"
  | "http"
  | "metrics";

/** What each listener counts as in the connections gauge. */
const PROTOCOL: Partial<Record<ListenerName, Protocol>> = {
  smtp: "mx",
  submission: "submission",
  submissions: "submission",
  imap: "imap",
  imaps: "imap",
  https: "https",
  http: "http",
};

/**
 * The metrics listener has neither TLS nor authentication: loopback, private
 * (RFC 1918, RFC 4193) and link-local addresses only (dns/address-class.ts).
 */
function checkMetricsAddress(address: string): void {
  const cls = addressClass(address);
  if (cls === "loopback" || cls === "private" || cls === "link-local") return;
  throw new StartupError(
    `mtail_address ${address}: the metrics listener needs a loopback, private or link-local address, not ${cls === "invalid" ? "this" : `a ${cls}`} one`,
  );
}

export interface RelayParts {
  config: Config;
  log: Logger;
  store: Store;
  bus: LocalEventBus;
  accounts: AccountService;
  delivery: Delivery;
  outbound: OutboundQueue;
  imap: ImapServer;
  smtp: SmtpService;
  http: HttpService;
  push: PushNotifier;
  expiry: ExpiryTimer;
  /** Message bodies held in memory right now (SMTP DATA, /mxdeliv, IMAP APPEND). */
  bodies: BodyBudget;
  /** Only with mtail_address set. */
  metrics?: Metrics;
  /** The built-in ACME client (tls_mode acme). */
  acme?: AcmeManager;
}

/** Turns "address in use" and friends into one clear start-up line. */
export async function bound(name: ListenerName, host: string, port: number, start: () => Promise<Server>) {
  try {
    return await start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "EADDRINUSE"
        ? "address already in use"
        : err.code === "EACCES"
          ? "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
          : err.message;
    throw new StartupError(`cannot listen on ${host}:${port} (${name}): ${why}`);
  }
}

export interface RelayOptions {
  /** Extra CAs trusted when delivering to other servers (tests, private PKI). */
  outboundCa?: string[];
  /** SQLite reported the database file damaged (serve exits so that it is restarted). */
  onStoreCorrupt?: (err: unknown) => void;
  /** CAs trusted for the ACME server's own HTTPS (tests against a local ACME server). */
  acmeCa?: string[];
  /** The clock of the per-user send rate limit (tests move it; default Date.now). */
  sendClock?: () => number;
}

export class Relay {
  readonly ports: Partial<Record<ListenerName, number>> = {};
  private readonly servers: Server[] = [];
  private readonly listeners: Array<[ListenerName, Server]> = [];

  private constructor(readonly parts: RelayParts) {}

  static async start(config: Config, log: Logger, opts: RelayOptions = {}): Promise<Relay> {
    try {
      // Only this process reads the data (store, message files, keys): 0700, also if it existed looser.
      await mkdir(config.data_dir, { recursive: true, mode: 0o700 });
      const mode = (await stat(config.data_dir)).mode & 0o777;
      if (mode & 0o077) {
        await chmod(config.data_dir, 0o700);
        log.info(
          { data_dir: config.data_dir, was: mode.toString(8) },
          "data_dir permissions tightened to 0700",
        );
      }
    } catch (e) {
      throw new StartupError(`cannot create data_dir ${config.data_dir}: ${(e as Error).message}`);
    }
    if (config.mtail_address) checkMetricsAddress(config.mtail_address);
    const tls = await loadTlsMaterial(config);
    const store = await openStore(config.data_dir, { log, onCorrupt: opts.onStoreCorrupt });
    const bus = new LocalEventBus();
    // prom-client costs about 8 MB of memory: loaded only for a relay that serves metrics
    const metrics = config.mtail_address ? new (await import("./metrics/metrics.ts")).Metrics() : undefined;
    const accounts = new AccountService({ config, store, log, metrics });
    const resolver = createResolver(config.dns_servers);
    const signer = await createSigner(config);
    const verifier = createVerifier(config);
    const local = new LocalDelivery(config, store, bus, log, Date.now, metrics);
    const outbound: OutboundQueue = new OutboundQueue({
      config,
      store,
      dns: resolver,
      log,
      ca: opts.outboundCa,
      metrics,
      onFailed: (mailFrom, message, failed) => delivery.bounce(mailFrom, message, failed),
    });
    const delivery: Delivery = new Delivery({
      config,
      log,
      local,
      signer,
      verifier,
      outbound,
      metrics,
      now: opts.sendClock,
    });
    // one budget for message bodies in memory, over SMTP, /mxdeliv and IMAP APPEND
    const bodies = new BodyBudget(config.max_buffered_bytes, config.max_message_size);
    const imap = new ImapServer({ config, store, accounts, bus, log, tls, bodies, metrics });
    const smtp = new SmtpService({ config, accounts, delivery, log, tls, bodies });
    const ports = (): Partial<Record<string, number>> => relay.ports;
    const http = new HttpService({ config, accounts, delivery, log, tls, imap, smtp, ports, bodies });
    const push = new PushNotifier({ config, store, bus, log });
    const expiry = new ExpiryTimer({ config, store, bus, log, metrics });
    // A removed account's cached login must not let its old password into a re-registered address.
    bus.subscribeAll((e) => {
      if (e.kind !== "account-removed") return;
      accounts.forget(e.address);
      smtp.endSessionsOf(e.address);
    });
    const relay = new Relay({
      config,
      log,
      store,
      bus,
      accounts,
      delivery,
      outbound,
      imap,
      smtp,
      http,
      push,
      expiry,
      bodies,
      metrics,
    });
    metrics?.sample({
      connections: () => relay.connections(),
      idleSessions: () => imap.idleCount,
      outboundQueue: async () => (await store.listJobs(OUTBOUND_QUEUE)).length,
      pushQueue: async () => (await store.listJobs(PUSH_QUEUE)).length,
    });
    const host = config.listen_address;
    try {
      await relay.listen("smtp", config.smtp_port, () =>
        smtp.listen("mx", "starttls", config.smtp_port, host),
      );
      await relay.listen("submissions", config.submissions_port, () =>
        smtp.listen("submission", "implicit", config.submissions_port, host),
      );
      await relay.listen("submission", config.submission_port, () =>
        smtp.listen("submission", "starttls", config.submission_port, host),
      );
      await relay.listen("imaps", config.imaps_port, () =>
        imap.listen(config.imaps_port, config.listen_address, "implicit"),
      );
      await relay.listen("imap", config.imap_port, () =>
        imap.listen(config.imap_port, config.listen_address, "starttls"),
      );
      await relay.listen("https", config.https_port, () => http.listenHttps(config.https_port, host));
      await relay.listen("http", config.http_port, () => http.listenHttp(config.http_port, host));
      if (config.mtail_address) await relay.listenMetrics();
      await push.start();
      outbound.start();
      expiry.start();
      if (config.tls_mode === "acme") {
        // after the listeners: the challenges are answered on 80 and 443; acme-client
        // (~25 MB with its X.509 and HTTP stacks) is loaded only in this mode
        const { AcmeManager } = await import("./tls/acme.ts");
        relay.parts.acme = new AcmeManager({
          config,
          log,
          http01: http.acme,
          tlsAlpn01: http.acmeTls,
          listening: () => ({ http: relay.ports.http !== undefined, https: relay.ports.https !== undefined }),
          install: ({ key, cert }) => relay.installCertificate(key, cert),
          ca: opts.acmeCa,
        });
        await relay.parts.acme.start();
      }
    } catch (e) {
      await relay.stop();
      throw e;
    }
    return relay;
  }

  /** Re-reads the certificate (external mode: after a renewal) and hands it to every listener. */
  async reloadCertificate(): Promise<void> {
    const { key, cert } = await loadTlsMaterial(this.parts.config);
    this.installCertificate(key, cert);
    this.parts.log.info("certificate reloaded");
  }

  /** New handshakes on every listener (and IMAP STARTTLS) use this certificate; open sessions keep theirs. */
  installCertificate(key: string, cert: string): void {
    this.parts.imap.setCertificate(key, cert);
    this.parts.smtp.setCertificate(key, cert);
    this.parts.http.setCertificate(key, cert);
  }

  private async listen(name: ListenerName, port: number, start: () => Promise<Server>): Promise<void> {
    // a negative port ("off" in the file) disables a listener; 0 picks a free one
    if (port < 0) return;
    const server = await bound(name, this.parts.config.listen_address, port, start);
    this.servers.push(server);
    this.listeners.push([name, server]);
    this.ports[name] = (server.address() as AddressInfo).port;
  }

  /** GET /metrics on mtail_address (never a public address: checked first thing in start). */
  private async listenMetrics(): Promise<void> {
    const { config, metrics } = this.parts;
    if (config.metrics_port < 0 || !metrics) return;
    metrics.enableProcessMetrics();
    const host = config.mtail_address;
    const server = await bound("metrics", host, config.metrics_port, () =>
      listenMetrics(metrics, config.metrics_port, host),
    );
    this.servers.push(server);
    this.ports.metrics = (server.address() as AddressInfo).port;
  }

  /** Open connections per protocol (metrics); 443's IMAP and SMTP by ALPN count as https. */
  private async connections(): Promise<Partial<Record<Protocol, number>>> {
    const counts: Partial<Record<Protocol, number>> = {};
    const each = this.listeners.map(async ([name, server]) => {
      const protocol = PROTOCOL[name];
      if (!protocol) return;
      const n = await new Promise<number>((resolve) => server.getConnections((e, c) => resolve(e ? 0 : c)));
      counts[protocol] = (counts[protocol] ?? 0) + n;
    });
    await Promise.all(each);
    return counts;
  }

  /** Drains sessions, then closes the store. */
  async stop(graceMs = 5000): Promise<void> {
    const { imap, smtp, http, push, outbound, expiry, store, accounts } = this.parts;
    expiry.stop();
    this.parts.acme?.stop();
    await Promise.all([imap.close(graceMs), smtp.close(), http.close()]);
    await Promise.all([push.stop(), outbound.stop()]);
    for (const s of this.servers) s.close();
    await accounts.close();
    await store.close();
  }
}
