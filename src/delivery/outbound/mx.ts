/**
 * Where mail for a domain goes (RFC 5321 §5.1): MX hosts by preference, the
 * domain itself when it has no MX (implicit MX), a permanent failure for a null
 * MX (RFC 7505) or a domain that does not exist, a retry for anything else.
 */
import { isIP } from "node:net";
import { DnsError, type DnsResolver } from "../../dns/resolver.ts";
import type { Reply } from "../types.ts";

export interface MxHost {
  /** Name used for SNI, certificate checks and the /mxdeliv URL. */
  name: string;
  /** Addresses to connect to, IPv4 first. */
  addresses: string[];
}

export type Destination =
  | { kind: "hosts"; hosts: string[] }
  | { kind: "permanent"; reply: Reply }
  | { kind: "temporary"; reply: Reply };

/** "[1.2.3.4]" -> "1.2.3.4", otherwise undefined. */
export function ipLiteral(domain: string): string | undefined {
  const m = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(domain);
  return m && isIP(m[1]!) ? m[1] : undefined;
}

export async function resolveDestination(domain: string, dns: DnsResolver): Promise<Destination> {
  const literal = ipLiteral(domain);
  if (literal) return { kind: "hosts", hosts: [literal] };
  try {
    const mx = await dns.resolveMx(domain);
    const sorted = [...mx].sort((a, b) => a.priority - b.priority);
    // RFC 7505: a single MX with an empty exchange ("." on the wire) is a null MX
    if (sorted.length === 1 && (sorted[0]!.exchange === "" || sorted[0]!.exchange === "."))
      return {
        kind: "permanent",
        reply: { code: 556, text: "5.1.10 Permanent failure: Recipient address has null MX" },
      };
    const hosts = sorted.map((r) => r.exchange.replace(/\.$/, "")).filter((h) => h !== "");
    if (hosts.length) return { kind: "hosts", hosts };
    return { kind: "hosts", hosts: [domain] };
  } catch (e) {
    if (e instanceof DnsError && e.kind === "nodata") return { kind: "hosts", hosts: [domain] };
    if (e instanceof DnsError && e.kind === "nxdomain")
      return { kind: "permanent", reply: { code: 512, text: `5.1.2 Domain ${domain} does not exist` } };
    return { kind: "temporary", reply: { code: 421, text: `4.4.3 DNS resolution failed for ${domain}` } };
  }
}

/** A and AAAA of an MX host (IPv4 first); an IP stays itself. */
export async function hostAddresses(name: string, dns: DnsResolver): Promise<string[]> {
  if (isIP(name)) return [name];
  const [v4, v6] = await Promise.allSettled([dns.resolve4(name), dns.resolve6(name)]);
  return [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
}
