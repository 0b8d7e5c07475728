/**
 * The key a per-client limit counts under: an IPv4 address as is, an IPv6
 * address by its /64 prefix (one subscriber usually gets a whole /64, RFC 6177
 * §2, so counting single IPv6 addresses would let one host multiply its budget),
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) as its IPv4
 * address. Anything unparsable counts under itself. Linear in the input, which
 * comes from the socket and is at most 45 characters.
 */
import { isIPv4, isIPv6 } from "node:net";

const MAPPED = "::ffff:";

export function addressKey(ip: string | undefined): string {
  if (!ip) return "";
  const lower = ip.toLowerCase();
  if (lower.startsWith(MAPPED) && isIPv4(lower.slice(MAPPED.length))) return lower.slice(MAPPED.length);
  if (isIPv4(lower) || !isIPv6(lower)) return lower;
  return `${expandIPv6(lower).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros. */
function expandIPv6(ip: string): string[] {
  const zone = ip.indexOf("%");
  const bare = zone >= 0 ? ip.slice(0, zone) : ip;
  const [head = "", tail] = bare.split("::", 2);
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // an embedded IPv4 tail (::1.2.3.4) is two groups; it only matters for the last 64 bits
  const width = (g: string[]) => g.reduce((n, x) => n + (x.includes(".") ? 2 : 1), 0);
  const fill = Array(Math.max(0, 8 - width(left) - width(right))).fill("0");
  return [...left, ...fill, ...right].map((g) =>
    g.includes(".") ? g : String(Number.parseInt(g, 16).toString(16)),
  );
}
