// IP address text forms, for comparing a From domain literal
// (RFC 5321 §4.1.3) with the address of the connecting peer.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function ipv6Groups(s: string): number[] | null {
  if (!/^[0-9a-f:.]+$/i.test(s)) return null;
  let text = s;
  let tail: number[] = [];
  if (text.includes(".")) {
    // RFC 4291 §2.2 form 3: the low 32 bits written as dotted IPv4.
    const lastColon = text.lastIndexOf(":");
    const v4 = text.slice(lastColon + 1);
    if (!IPV4.test(v4)) return null;
    const o = v4.split(".").map(Number) as [number, number, number, number];
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    text = text.slice(0, lastColon + 1);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  if (head === null || rest === null) return null;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 2) {
    if (given > 7) return null;
    return [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  }
  return given === 8 ? [...head, ...tail] : null;
}

/**
 * Canonical text of an IP address: dotted IPv4 (also for IPv4-mapped IPv6
 * such as "::ffff:192.0.2.1"), or eight lower-case hex groups for IPv6.
 * Null if `s` is not an address.
 */
export function canonicalIp(s: string): string | null {
  const t = s.trim();
  if (IPV4.test(t)) return t;
  const g = ipv6Groups(t);
  if (g === null) return null;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const a = g[6] as number;
    const b = g[7] as number;
    return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
  }
  return g.map((x) => x.toString(16)).join(":");
}

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIpv6(s: string): boolean {
  return ipv6Groups(s) !== null;
}
