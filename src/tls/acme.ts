/**
 * The built-in ACME client (tls_mode acme, RFC 8555) on acme-client: one
 * certificate for <domain>, www.<domain> and mta-sts.<domain> with an EC P-256
 * key, as the reference relay's acmetool obtains (chatmail/relay
 * cmdeploy/src/cmdeploy/acmetool/). Account key and certificate live in
 * <data_dir>/acme/ (acme-files.ts).
 *
 * Challenges: HTTP-01 (RFC 8555 §8.3) through port 80's
 * /.well-known/acme-challenge/ (http/acme-challenge.ts) and TLS-ALPN-01
 * (RFC 8737) through port 443 (alpn-challenge.ts); either listener is enough.
 * HTTP-01 goes first when port 80 listens; after a failure the next attempt
 * puts the other type first.
 *
 * Without a certificate the relay starts with a temporary self-signed one
 * (material.ts) and this client replaces it as soon as it has one. Every 12
 * hours it checks the expiry and renews when less than a third of the
 * lifetime (at most 30 days) is left. A failed attempt is logged in one line
 * with the reason and retried after a backoff: from 5 minutes while there is
 * no valid certificate, else from an hour, doubling up to a day. A new
 * certificate goes to every listener through `install` (new handshakes use
 * it; open sessions keep theirs).
 */
import { get as httpGet } from "node:http";
import { Agent, get as httpsGet } from "node:https";
import type AcmeClient from "acme-client";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import {
  type CertificateFacts,
  certificateFacts,
  newEcKey,
  readAccountUrl,
  readOrCreateAccountKey,
  readStoredCertificate,
  writeAccountUrl,
  writeStoredCertificate,
} from "./acme-files.ts";
import { certificateNames } from "./material.ts";
import type { KeyAndCert } from "./selfsigned.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** How often the expiry is looked at. */
const CHECK_MS = 12 * HOUR;
const RENEW_BEFORE_MAX_MS = 30 * DAY;
/** One HTTP request to the ACME server. */
const REQUEST_TIMEOUT_MS = 30_000;

export type ChallengeType = "http-01" | "tls-alpn-01";

export interface AcmeDeps {
  config: Config;
  log: Logger;
  /** HTTP-01 key authorizations served on port 80 (AcmeChallenges). */
  http01: { set(token: string, keyAuthorization: string): void; delete(token: string): void };
  /** TLS-ALPN-01 certificates served on port 443 (AlpnChallenges). */
  tlsAlpn01: { set(name: string, key: string, cert: string): void; delete(name: string): void };
  /** Which challenge listeners are up now. */
  listening(): { http: boolean; https: boolean };
  /** Hands a new certificate to every listener. */
  install(pair: KeyAndCert): void;
  /** CAs trusted for the ACME server's own HTTPS (a test CA such as pebble's); default: the system's. */
  ca?: string[];
  now?: () => number;
}

/** Renewal is due once less than a third of the lifetime, at most 30 days, is left. */
export function renewalTime(facts: Pick<CertificateFacts, "notBefore" | "notAfter">): number {
  const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
  return facts.notAfter.getTime() - Math.min(RENEW_BEFORE_MAX_MS, lifetime / 3);
}

/** Delay before the next attempt after `failures` failures in a row. */
export function retryDelay(failures: number, haveValidCertificate: boolean): number {
  const base = haveValidCertificate ? HOUR : 5 * 60_000;
  return Math.min(DAY, base * 2 ** Math.max(0, Math.min(failures - 1, 20)));
}

/** One line, no stack: what the ACME server or the network said. */
function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, " ").slice(0, 300);
}

/** Why the ACME directory cannot be fetched, or undefined if it can. */
function unreachable(url: string, ca: string[] | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const get = url.startsWith("http:") ? httpGet : httpsGet;
    const req = get(url, { ca, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `${url} answered HTTP ${res.statusCode}`);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", (err) => resolve(`cannot reach ${url}: ${err.message}`));
  });
}

export class AcmeManager {
  private readonly now: () => number;
  private readonly names: string[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CertificateFacts> | undefined;
  private failures = 0;
  private stopped = false;
  private preferAlpn = false;
  private facts: CertificateFacts | undefined;

  constructor(private readonly deps: AcmeDeps) {
    this.now = deps.now ?? Date.now;
    this.names = certificateNames(deps.config.mail_domain);
  }

  /**
   * acme-client and what it pulls in (axios, an X.509 library) cost about 25 MB
   * and 150 ms to load: only when a certificate is requested, not for a relay
   * whose certificate is years or weeks from renewal.
   */
  private async library(): Promise<typeof AcmeClient> {
    const acme = (await import("acme-client")).default;
    const { ca, log } = this.deps;
    // acme-client sends every request through its one axios instance; a test CA is set on it
    if (ca) acme.axios.defaults.httpsAgent = new Agent({ ca, keepAlive: false });
    // axios waits forever by default, and a hung request would hold every later renewal
    acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
    acme.setLogger((message) => log.trace({ acme: message }, "acme-client"));
    return acme;
  }

  /** The current ACME certificate's facts (undefined while the temporary one is in use). */
  get certificate(): CertificateFacts | undefined {
    return this.facts;
  }

  /** Looks at the stored certificate and obtains or renews one in the background when due. */
  async start(): Promise<void> {
    const stored = await readStoredCertificate(this.deps.config.data_dir);
    const facts = stored && certificateFacts(stored.cert, this.names);
    if (facts?.covers) this.facts = facts;
    else if (facts)
      this.deps.log.info({ names: this.names }, "acme: stored certificate lacks a name, replacing it");
    this.schedule(0);
  }

  /** Obtains a new certificate now, whatever the expiry (tests, an operator's request). */
  async renew(): Promise<CertificateFacts> {
    // an attempt under way may have started before the caller's reason to renew
    if (this.running) await this.running.catch(() => undefined);
    return this.obtain();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, Math.min(ms, CHECK_MS)));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const facts = this.facts;
    const due = facts ? renewalTime(facts) - this.now() : 0;
    if (due > 0) {
      this.schedule(due);
      return;
    }
    try {
      await this.obtain();
      this.failures = 0;
      this.schedule(CHECK_MS);
    } catch (e) {
      this.failures++;
      const valid = facts !== undefined && facts.notAfter.getTime() > this.now();
      const wait = retryDelay(this.failures, valid);
      const fields = {
        reason: reason(e),
        attempt: this.failures,
        retry_in_s: Math.round(wait / 1000),
        expires: facts?.notAfter.toISOString() ?? "no certificate yet",
      };
      // without a valid certificate (or a week before expiry) clients fail: an error, else a warning
      if (!valid || facts.notAfter.getTime() - this.now() < 7 * DAY)
        this.deps.log.error(fields, "acme: certificate request failed");
      else this.deps.log.warn(fields, "acme: certificate renewal failed");
      this.schedule(wait);
    }
  }

  /** One attempt at a time; a caller during an attempt shares its outcome. */
  private obtain(): Promise<CertificateFacts> {
    if (!this.running) {
      this.running = this.issue().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private challengeOrder(): ChallengeType[] {
    const { http, https } = this.deps.listening();
    if (http && https) return this.preferAlpn ? ["tls-alpn-01", "http-01"] : ["http-01", "tls-alpn-01"];
    if (http) return ["http-01"];
    if (https) return ["tls-alpn-01"];
    throw new Error("neither http_port nor https_port listens, so no ACME challenge can be answered");
  }

  private async issue(): Promise<CertificateFacts> {
    const { config, log, http01, tlsAlpn01 } = this.deps;
    const order = this.challengeOrder();
    const dataDir = config.data_dir;
    const directory = config.acme_directory;
    const acme = await this.library();
    const client = new acme.Client({
      directoryUrl: directory,
      accountKey: await readOrCreateAccountKey(dataDir),
      accountUrl: await readAccountUrl(dataDir, directory),
      // polls of a pending challenge and order: 1 s, 2 s, 4 s, … up to 30 s
      backoffMin: 1000,
      backoffMax: 30_000,
    });
    const key = newEcKey();
    const [, csr] = await acme.crypto.createCsr({ commonName: this.names[0], altNames: this.names }, key);
    const used = new Set<string>();
    let cert: string;
    try {
      cert = await client.auto({
        csr,
        email: config.acme_email || undefined,
        // choosing tls_mode acme is agreeing to the CA's terms (acmetool does the same in the reference)
        termsOfServiceAgreed: true,
        challengePriority: order,
        // the self-check would resolve and connect from here, which says little behind NAT; the CA checks
        skipChallengeVerification: true,
        challengeCreateFn: async (authz, challenge, keyAuthorization) => {
          // acme-client's types predate tls-alpn-01
          const type: string = challenge.type;
          used.add(type);
          if (type === "http-01") http01.set(challenge.token, keyAuthorization);
          else if (type === "tls-alpn-01") {
            const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(
              authz,
              keyAuthorization,
              newEcKey(),
            );
            tlsAlpn01.set(authz.identifier.value, alpnKey.toString(), alpnCert.toString());
          } else
            throw new Error(
              `the ACME server offers no challenge type this relay answers (${order.join(", ")})`,
            );
        },
        challengeRemoveFn: async (authz, challenge) => {
          const type: string = challenge.type;
          if (type === "http-01") http01.delete(challenge.token);
          else if (type === "tls-alpn-01") tlsAlpn01.delete(authz.identifier.value);
        },
      });
    } catch (e) {
      // the other challenge type first next time (one port may be closed by a firewall)
      this.preferAlpn = !this.preferAlpn;
      // after its retries acme-client reports a network failure as a TypeError; say what failed
      if (e instanceof TypeError) throw new Error((await unreachable(directory, this.deps.ca)) ?? e.message);
      throw e;
    }
    const accountUrl = client.getAccountUrl();
    if (accountUrl !== (await readAccountUrl(dataDir, directory)))
      await writeAccountUrl(dataDir, directory, accountUrl);
    const facts = certificateFacts(cert, this.names);
    if (!facts?.covers) throw new Error("the ACME server returned a certificate without all requested names");
    await writeStoredCertificate(dataDir, { key, cert });
    if (!this.stopped) {
      this.facts = facts;
      this.deps.install({ key, cert });
    }
    log.info(
      { names: this.names, challenges: [...used], not_after: facts.notAfter.toISOString() },
      "acme: certificate obtained",
    );
    return facts;
  }
}
