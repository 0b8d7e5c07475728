/**
 * DNS lookups (MX, TXT, A, AAAA; CNAME, SRV and CAA for `dns --check`) through node:dns,
 * with errors reduced to what a mail server acts on: the name does not exist, it has no
 * record of the type, or a temporary failure worth retrying later (RFC 5321 §5.1, RFC 2308).
 */
import dns from "node:dns";
import { Resolver } from "node:dns/promises";

export type DnsErrorKind = "nxdomain" | "nodata" | "temporary";

export class DnsError extends Error {
  override readonly name = "DnsError";
  constructor(
    readonly kind: DnsErrorKind,
    /** The node:dns / c-ares code, e.g. "ENOTFOUND", "ENODATA", "ESERVFAIL", "ETIMEOUT". */
    readonly code: string,
    readonly hostname: string,
    readonly rrtype: string,
  ) {
    super(`DNS ${rrtype} lookup of ${hostname} failed: ${kind} (${code})`);
  }
}

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface DnsResolver {
  resolveMx(name: string): Promise<MxRecord[]>;
  /** Each record as its list of <character-string>s (join them for the record's text). */
  resolveTxt(name: string): Promise<string[][]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  name: string;
}

/** node:dns's CAA answer: the flags byte as `critical` and one tag → value. */
export interface CaaRecord {
  critical: number;
  issue?: string;
  issuewild?: string;
  iodef?: string;
}

/** The lookups `chatrelay dns --check` needs besides those of mail delivery. */
export interface ZoneResolver extends DnsResolver {
  resolveCname(name: string): Promise<string[]>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolveCaa(name: string): Promise<CaaRecord[]>;
}

export interface ResolverOptions {
  /** Upper bound for one lookup including retries (default 5000 ms). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const TRIES = 2;

function kindOf(code: string): DnsErrorKind {
  switch (code) {
    case "ENOTFOUND": // NXDOMAIN
    case "EBADNAME": // the name cannot exist
      return "nxdomain";
    case "ENODATA": // NOERROR without answers of this type
      return "nodata";
    default:
      return "temporary";
  }
}

function toDnsError(err: unknown, hostname: string, rrtype: string): DnsError {
  if (err instanceof DnsError) return err;
  const code =
    typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string"
      ? (err as { code: string }).code
      : "EUNKNOWN";
  return new DnsError(kindOf(code), code, hostname, rrtype);
}

/**
 * `servers` are "host", "host:port", "[v6]" or "[v6]:port"; an empty list uses the
 * servers of Node's default resolver (read from the system configuration, or as
 * set by dns.setServers). Throws a TypeError for a malformed server address.
 */
export function createResolver(servers: string[], opts: ResolverOptions = {}): ZoneResolver {
  const timeoutMs = Math.max(1, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  // c-ares doubles the timeout on each retry: t + 2t stays within the budget with t = budget / 3.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 3)), tries: TRIES });
  // A new Resolver reads /etc/resolv.conf itself and ignores dns.setServers.
  const use = servers.length > 0 ? servers : dns.getServers();
  if (use.length > 0) {
    try {
      resolver.setServers(use);
    } catch (err) {
      throw new TypeError(`invalid DNS server list ${JSON.stringify(servers)}: ${(err as Error).message}`);
    }
  }

  async function run<T>(rrtype: string, hostname: string, query: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DnsError("temporary", "ETIMEOUT", hostname, rrtype)), timeoutMs);
    });
    try {
      return await Promise.race([query(), deadline]);
    } catch (err) {
      throw toDnsError(err, hostname, rrtype);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    resolveMx: (name) => run("MX", name, () => resolver.resolveMx(name)),
    resolveTxt: (name) => run("TXT", name, () => resolver.resolveTxt(name)),
    resolve4: (name) => run("A", name, () => resolver.resolve4(name)),
    resolve6: (name) => run("AAAA", name, () => resolver.resolve6(name)),
    resolveCname: (name) => run("CNAME", name, () => resolver.resolveCname(name)),
    resolveSrv: (name) => run("SRV", name, () => resolver.resolveSrv(name)),
    resolveCaa: (name) => run("CAA", name, () => resolver.resolveCaa(name)),
  };
}
