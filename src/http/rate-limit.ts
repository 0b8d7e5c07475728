/**
 * Per-client request limit for /new, like the reference relay's nginx
 * `limit_req` (2 r/s, burst 5): GCRA per IPv4 address or IPv6 /64.
 */

import { Gcra } from "../policy/gcra.ts";
import { canonicalIp } from "../policy/ip.ts";

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export const NEW_ACCOUNT_RATE: RateLimit = { perSecond: 2, burst: 5 };

/** IPv4 address, or the /64 prefix of an IPv6 address (one host usually holds a whole /64). */
export function clientKey(ip: string): string {
  const c = canonicalIp(ip) ?? ip;
  if (!c.includes(":")) return c;
  return `${c.split(":").slice(0, 4).join(":")}::/64`;
}

export class ClientRateLimiter {
  private readonly gcra: Gcra;

  constructor(limit: RateLimit, now?: () => number) {
    this.gcra = new Gcra({ perMinute: limit.perSecond * 60, burst: limit.burst, now });
  }

  /** undefined when allowed, else the seconds to wait. */
  take(ip: string): number | undefined {
    const r = this.gcra.take(clientKey(ip));
    return r.ok ? undefined : Math.max(1, Math.ceil(r.retryAfterMs / 1000));
  }
}
