/**
 * The record-by-record rules of `chatrelay dns --check` for the TXT records (MTA-STS, DKIM,
 * SPF, DMARC) and CAA: each reads the published text and adds one finding.
 */
import { isIP } from "node:net";
import { DnsError, type ZoneResolver } from "../dns/resolver.ts";

export type Level = "OK" | "FAIL" | "WARN";
export interface Finding {
  level: Level;
  /** "<what> <name>: <detail>", e.g. "MX chat.example.org: expected 10 chat.example.org., found nothing". */
  text: string;
}

/** RFC 7208 §3.3: the strings of one TXT record are concatenated without separator. */
export function txtOf(records: string[][]): string[] {
  return records.map((strings) => strings.join(""));
}

export function found(items: string[]): string {
  return items.length === 0 ? "found nothing" : `found ${items.join(", ")}`;
}

const quoted = (texts: string[]): string[] => texts.map((t) => `"${t}"`);

/** A tag=value list (RFC 6376 §3.2, RFC 7489 §6.4, RFC 8461 §3.1): lower-case tag → value. */
export function tagList(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const tag = part.slice(0, eq).trim().toLowerCase();
    if (tag !== "" && !tags.has(tag)) tags.set(tag, part.slice(eq + 1).trim());
  }
  return tags;
}

/** Same public key (p=, white space is not part of it, RFC 6376 §3.6.1) and an RSA key type. */
export function dkimMatches(published: string, expected: string): boolean {
  const got = tagList(published);
  const want = tagList(expected);
  const key = (v: string | undefined) => (v ?? "").replace(/\s+/g, "");
  return (
    key(got.get("p")) !== "" &&
    key(got.get("p")) === key(want.get("p")) &&
    (got.get("k") ?? "rsa").toLowerCase() === "rsa"
  );
}

/** RFC 8461 §3.1: exactly one "v=STSv1" record with an id of 1–32 letters and digits. */
export function checkMtaSts(texts: string[], expected: string, what: string, out: Finding[]): void {
  const sts = texts.filter((t) => /^v=STSv1(;|\s|$)/.test(t));
  const valid = sts.length === 1 && /^[A-Za-z0-9]{1,32}$/.test(tagList(sts[0] as string).get("id") ?? "");
  out.push(
    valid
      ? { level: "OK", text: `${what}: "${sts[0]}"` }
      : { level: "FAIL", text: `${what}: expected "${expected}", ${found(quoted(sts))}` },
  );
}

/**
 * RFC 7208 §4.5: exactly one "v=spf1" record; it must pass the relay's address through a
 * mechanism that names the domain itself (`a`, `mx`) or a known address (`ip4:`/`ip6:`).
 * With `include:` or `redirect=` and no such mechanism, whether it passes is not known here.
 */
export function checkSpf(
  texts: string[],
  expected: string,
  known: string[],
  domain: string,
  what: string,
  out: Finding[],
): void {
  const spf = texts.filter((t) => /^v=spf1(\s|$)/i.test(t));
  if (spf.length !== 1) {
    out.push({ level: "FAIL", text: `${what}: expected "${expected}", ${found(quoted(spf))}` });
    return;
  }
  const record = spf[0] as string;
  const terms = record.toLowerCase().split(/\s+/).slice(1);
  const passes = terms.some((term) => {
    const t = term.replace(/^\+/, "");
    if (/^(a|mx)(\/\d+)?$/.test(t)) return true;
    const m = /^(a|mx|ip4|ip6):([^/]+)(\/\d+)?$/.exec(t);
    if (!m) return false;
    const target = m[2] as string;
    if (m[1] === "a" || m[1] === "mx") return target.replace(/\.$/, "") === domain;
    return (
      isIP(target) !== 0 &&
      known.includes(target) &&
      (m[3] === undefined || m[3] === "/32" || m[3] === "/128")
    );
  });
  if (passes) out.push({ level: "OK", text: `${what}: "${record}"` });
  else if (terms.some((t) => /^[+]?include:|^redirect=/.test(t)))
    out.push({
      level: "WARN",
      text: `${what}: "${record}" (cannot tell whether it passes this server; expected "${expected}")`,
    });
  else out.push({ level: "FAIL", text: `${what}: expected "${expected}", found "${record}"` });
}

/** RFC 7489 §6.6.3: exactly one "v=DMARC1" record; the reference's p, adkim and aspf. */
export function checkDmarc(texts: string[], expected: string, what: string, out: Finding[]): void {
  const dmarc = texts.filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/.test(t));
  const want = [...tagList(expected)].filter(([tag]) => tag !== "v");
  const got = dmarc.length === 1 ? tagList(dmarc[0] as string) : null;
  const good = got !== null && want.every(([tag, value]) => (got.get(tag) ?? "").toLowerCase() === value);
  out.push(
    good
      ? { level: "OK", text: `${what}: "${dmarc[0]}"` }
      : { level: "FAIL", text: `${what}: expected "${expected}", ${found(quoted(dmarc))}` },
  );
}

interface CaaEntry {
  critical: number;
  tag: string;
  value: string;
}

function caaEntries(records: object[]): CaaEntry[] {
  return records.map((r) => {
    const { critical, ...rest } = r as { critical?: number } & Record<string, unknown>;
    const [tag = "", value = ""] = Object.entries(rest)[0] ?? [];
    return { critical: critical ?? 0, tag: tag.toLowerCase(), value: String(value) };
  });
}

/** RFC 8659 §3: the relevant CAA set is the first non-empty one climbing from the domain. */
async function relevantCaa(
  domain: string,
  dns: ZoneResolver,
): Promise<{ at: string; set: CaaEntry[] } | string> {
  const labels = domain.split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join(".");
    try {
      const set = caaEntries(await dns.resolveCaa(name));
      if (set.length > 0) return { at: name, set };
    } catch (err) {
      if (!(err instanceof DnsError) || err.kind === "temporary")
        return `lookup failed (${err instanceof DnsError ? err.code : (err as Error).message})`;
    }
  }
  return { at: domain, set: [] };
}

const LETSENCRYPT = "letsencrypt.org";

/** RFC 8659 §4.2 (issuer-domain-name before ";"), §4.1 (unknown critical tag forbids issuance). */
function permits(set: CaaEntry[], issuer: string): boolean {
  if (set.some((e) => e.critical & 128 && !["issue", "issuewild", "iodef"].includes(e.tag))) return false;
  const issue = set.filter((e) => e.tag === "issue");
  return (
    issue.length === 0 || issue.some((e) => (e.value.split(";")[0] ?? "").trim().toLowerCase() === issuer)
  );
}

/**
 * CAA when certificates come from Let's Encrypt: with a known ACME account, the reference's
 * `0 issue "letsencrypt.org;accounturi=…"` (RFC 8657 §3) is recommended (WARN when absent);
 * a CAA set that forbids Let's Encrypt stops issuance (FAIL). Other ACME CAs: not checked.
 */
export async function checkCaa(
  domain: string,
  directory: string,
  accountUrl: string | null,
  dns: ZoneResolver,
  out: Finding[],
): Promise<void> {
  let host = "";
  try {
    host = new URL(directory).hostname;
  } catch {}
  if (host !== LETSENCRYPT && !host.endsWith(`.${LETSENCRYPT}`)) return;
  const what = `CAA ${domain}`;
  const caa = await relevantCaa(domain, dns);
  if (typeof caa === "string") {
    out.push({ level: "WARN", text: `${what}: ${caa}` });
    return;
  }
  const shown = caa.set.map(
    (e) => `${e.critical} ${e.tag} "${e.value}"${caa.at === domain ? "" : ` (at ${caa.at})`}`,
  );
  if (!permits(caa.set, LETSENCRYPT)) {
    out.push({ level: "FAIL", text: `${what}: expected ${LETSENCRYPT} to be allowed, ${found(shown)}` });
    return;
  }
  if (accountUrl === null) {
    out.push({
      level: "OK",
      text: caa.set.length === 0 ? `${what}: none (any CA may issue)` : `${what}: ${shown.join(", ")}`,
    });
    return;
  }
  const expected = `${LETSENCRYPT};accounturi=${accountUrl}`;
  const norm = (v: string) => v.replace(/\s+/g, "");
  const bound = caa.set.some((e) => e.tag === "issue" && norm(e.value) === expected);
  out.push(
    bound
      ? { level: "OK", text: `${what}: ${shown.join(", ")}` }
      : { level: "WARN", text: `${what}: expected 0 issue "${expected}", ${found(shown)}` },
  );
}
