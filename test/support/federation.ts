/**
 * Two federating relays on loopback: the domains A and B, each on its own
 * loopback address, named by one test DNS server (A and MX records), and
 * listening on the same HTTPS and SMTP port numbers, which are also the ports
 * each relay delivers to (outbound_https_port, outbound_smtp_port), so each
 * finds the other by name alone. The ports come from commonFreePort: one
 * number free on both addresses.
 */
import type { Config } from "../../src/config/types.ts";
import type { Logger } from "../../src/log.ts";
import { type DnsServer, startDnsServer, type ZoneRecords } from "./dns-server.ts";
import { commonFreePort } from "./ports.ts";
import { publishDkim, startTestRelay, type TestRelay } from "./relay.ts";

export const A = "_alpha.test";
export const B = "_beta.test";
export const A_IP = "127.0.0.2";
export const B_IP = "127.0.0.3";

const SIDES = { [A]: A_IP, [B]: B_IP } as const;
export type Domain = keyof typeof SIDES;

export interface Federation {
  dns: DnsServer;
  /** The port numbers both relays listen on and deliver to. */
  ports: { https: number; smtp: number };
  /** The config of the relay of `domain` (A or B) on its address, on the shared ports. */
  config(domain: Domain, extra?: Partial<Config>): Partial<Config>;
  /** Starts the relay of `domain` and publishes its DKIM key. */
  start(domain: Domain, extra?: Partial<Config>, opts?: { log?: Logger }): Promise<TestRelay>;
  /** Stops the DNS server (the relays are the caller's to close). */
  close(): Promise<void>;
}

/** The DNS server for A and B (and `zone`'s other names) and the shared ports. */
export async function startFederation(zone: Record<string, ZoneRecords> = {}): Promise<Federation> {
  const dns = await startDnsServer({
    [A]: { A: [A_IP], MX: [{ exchange: A, priority: 10 }] },
    [B]: { A: [B_IP], MX: [{ exchange: B, priority: 10 }] },
    ...zone,
  });
  const ports = { https: await commonFreePort([A_IP, B_IP]), smtp: await commonFreePort([A_IP, B_IP]) };
  const config = (domain: Domain, extra: Partial<Config> = {}): Partial<Config> => ({
    mail_domain: domain,
    listen_address: SIDES[domain],
    dns_servers: [dns.address],
    https_port: ports.https,
    smtp_port: ports.smtp,
    outbound_https_port: ports.https,
    outbound_smtp_port: ports.smtp,
    ...extra,
  });
  return {
    dns,
    ports,
    config,
    async start(domain, extra, opts = {}) {
      const relay = await startTestRelay(config(domain, extra), opts);
      publishDkim(dns, relay);
      return relay;
    },
    close: () => dns.close(),
  };
}

/** Records how mail from other relays arrives at `r`, in order: "https" (/mxdeliv) or "smtp". */
export function arrivalChannels(r: TestRelay): string[] {
  const via: string[] = [];
  const delivery = r.relay.parts.delivery;
  const accept = delivery.accept.bind(delivery);
  delivery.accept = (envelope, message, origin) => {
    if (origin.kind === "mx") via.push(origin.via);
    return accept(envelope, message, origin);
  };
  return via;
}
