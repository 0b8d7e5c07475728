/**
 * What kind of address an IP is, for deciding whether the relay may connect to
 * it on a remote domain's behalf (issue: no requests to the inside). Only
 * global unicast addresses are "public"; everything the IANA special-purpose
 * registries mark as not globally reachable is something else:
 * IPv4 RFC 6890 (and RFC 1918, 6598, 5737, 3927, 2544, 5771, 1112, 919),
 * IPv6 RFC 4291 §2.4–2.7, RFC 4193, RFC 3849, RFC 9637, RFC 6666, RFC 2928.
 * Addresses that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64
 * 64:ff9b::/96 per RFC 6052, 6to4 2002::/16 per RFC 3056) are classified by
 * the embedded address. Pure and total: text that is not an address is "invalid".
 */
import { canonicalIp } from "../policy/ip.ts";

export type AddressClass =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "shared"
  | "link-local"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "reserved"
  | "invalid";

type V4Rule = [base: number, prefix: number, cls: AddressClass];

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

// Most specific first; the first match wins.
const V4_RULES: V4Rule[] = [
  [v4(255, 255, 255, 255), 32, "broadcast"], // RFC 919
  [v4(0, 0, 0, 0), 32, "unspecified"],
  [v4(0, 0, 0, 0), 8, "reserved"], // "this network", RFC 1122 §3.2.1.3
  [v4(10, 0, 0, 0), 8, "private"], // RFC 1918
  [v4(100, 64, 0, 0), 10, "shared"], // CGNAT, RFC 6598
  [v4(127, 0, 0, 0), 8, "loopback"], // RFC 1122
  [v4(169, 254, 0, 0), 16, "link-local"], // RFC 3927
  [v4(172, 16, 0, 0), 12, "private"],
  [v4(192, 0, 0, 0), 24, "reserved"], // IETF protocol assignments, RFC 6890
  [v4(192, 0, 2, 0), 24, "documentation"], // RFC 5737
  [v4(192, 88, 99, 0), 24, "reserved"], // 6to4 relay anycast, RFC 7526
  [v4(192, 168, 0, 0), 16, "private"],
  [v4(198, 18, 0, 0), 15, "reserved"], // benchmarking, RFC 2544
  [v4(198, 51, 100, 0), 24, "documentation"],
  [v4(203, 0, 113, 0), 24, "documentation"],
  [v4(224, 0, 0, 0), 4, "multicast"], // RFC 5771
  [v4(240, 0, 0, 0), 4, "reserved"], // RFC 1112 §4
];

function classifyV4(n: number): AddressClass {
  for (const [base, prefix, cls] of V4_RULES) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((n & mask) >>> 0 === base) return cls;
  }
  return "public";
}

function classifyV6(g: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = ((g6 << 16) | g7) >>> 0;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    if (g6 === 0 && g7 === 0) return "unspecified";
    if (g6 === 0 && g7 === 1) return "loopback";
    return "reserved"; // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1) and the rest of ::/96
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return classifyV4(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return "private"; // local-use NAT64, RFC 8215
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return "reserved"; // discard-only, RFC 6666
  if (g0 >= 0xff00) return "multicast"; // RFC 4291 §2.7
  if ((g0 & 0xffc0) === 0xfe80) return "link-local"; // RFC 4291 §2.5.6
  if ((g0 & 0xffc0) === 0xfec0) return "private"; // site-local, deprecated by RFC 3879
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local, RFC 4193
  if ((g0 & 0xe000) !== 0x2000) return "reserved"; // only 2000::/3 is global unicast
  if (g0 === 0x2001 && g1 === 0xdb8) return "documentation"; // RFC 3849
  if (g0 === 0x3fff && g1 < 0x1000) return "documentation"; // 3fff::/20, RFC 9637
  if (g0 === 0x2001 && g1 < 0x200) return "reserved"; // IETF protocol assignments incl. Teredo, RFC 2928
  if (g0 === 0x2002) return classifyV4(((g1 << 16) | g2) >>> 0); // 6to4, RFC 3056
  return "public";
}

/** The class of `ip` (IPv4 or IPv6 text, optionally with a %zone). */
export function addressClass(ip: string): AddressClass {
  const zone = ip.indexOf("%");
  const canonical = canonicalIp(zone >= 0 ? ip.slice(0, zone) : ip);
  if (canonical === null) return "invalid";
  if (canonical.includes(".")) {
    const o = canonical.split(".").map(Number) as [number, number, number, number];
    return classifyV4(v4(o[0], o[1], o[2], o[3]));
  }
  return classifyV6(canonical.split(":").map((x) => Number.parseInt(x, 16)));
}

/** True when the relay may connect to `ip` without outbound_allow_private. */
export function isPublicAddress(ip: string): boolean {
  return addressClass(ip) === "public";
}
