/**
 * `chatrelay dns --check`: resolves every record of `chatrelay dns` and prints one line per
 * record: OK, FAIL (a required record is missing or different: exit 1) or WARN (an optional
 * one: AAAA without a known IPv6 address, SRV, CAA). Required and recommended follow the
 * reference (chatmail/relay cmdeploy/src/cmdeploy/dns.py and remote/rdns.py), except that
 * SPF and DMARC are required here: without them big mail providers refuse the relay's mail.
 */
import { isIP } from "node:net";
import { isIpDomain } from "../config/domain.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { dkimKeyPath } from "../dkim/path.ts";
import { isPublicAddress } from "../dns/address-class.ts";
import { createResolver, DnsError, type SrvRecord, type ZoneResolver } from "../dns/resolver.ts";
import { acmeAccountUrl, DMARC_RECORD, dkimRecordText, SPF_RECORD, SRV_RECORDS } from "./dns.ts";
import {
  checkCaa,
  checkDmarc,
  checkMtaSts,
  checkSpf,
  dkimMatches,
  type Finding,
  found,
  txtOf,
} from "./dns-check-records.ts";

export interface CheckOptions {
  /** "IP" or "IP:port" ("[IPv6]:port"): ask this server instead of dns_servers. */
  server?: string;
  /** The server's public addresses; A and AAAA must name exactly these. */
  ips?: string[];
}

/** An answer, [] when the name or the type does not exist, or the failure text. */
type Answer<T> = T[] | string;

async function ask<T>(query: () => Promise<T[]>): Promise<Answer<T>> {
  try {
    return await query();
  } catch (err) {
    if (err instanceof DnsError) return err.kind === "temporary" ? `lookup failed (${err.code})` : [];
    return `lookup failed (${(err as Error).message})`;
  }
}

const bare = (name: string): string => name.toLowerCase().replace(/\.$/, "");
const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

export interface Expectations {
  dkim: string | null;
  accountUrl: string | null;
  /** Known public addresses of the server. */
  v4: string[];
  v6: string[];
  mtaStsId: string;
}

/** The findings for `config.mail_domain`, in the order of `chatrelay dns`. */
export async function checkZone(config: Config, dns: ZoneResolver, exp: Expectations): Promise<Finding[]> {
  const d = bare(config.mail_domain);
  const out: Finding[] = [];
  const add =
    (level: Finding["level"]) =>
    (text: string): void => {
      out.push({ level, text });
    };
  const [ok, fail, warn] = [add("OK"), add("FAIL"), add("WARN")];

  const [a, aaaa, mx] = await Promise.all([
    ask(() => dns.resolve4(d)),
    ask(() => dns.resolve6(d)),
    ask(() => dns.resolveMx(d)),
  ]);

  // A and AAAA: exactly the known addresses, else any public address (rdns.py: A and/or AAAA).
  const addresses = (type: "A" | "AAAA", got: Answer<string>, known: string[], other: Answer<string>) => {
    const what = `${type} ${d}`;
    if (typeof got === "string") return fail(`${what}: ${got}`);
    if (known.length > 0) {
      if (sameSet(got, known)) return ok(`${what}: ${got.join(", ")}`);
      return fail(`${what}: expected ${known.join(", ")}, ${found(got)}`);
    }
    if (got.length === 0) {
      if (type === "AAAA") return warn(`${what}: none (fine if the server has no IPv6 address)`);
      if (Array.isArray(other) && other.length > 0) return warn(`${what}: none (an IPv6-only server)`);
      return fail(`${what}: expected the server's IPv4 address, found nothing`);
    }
    const inner = got.filter((ip) => !isPublicAddress(ip));
    if (inner.length > 0) return warn(`${what}: ${inner.join(", ")} is not reachable from the internet`);
    ok(`${what}: ${got.join(", ")}`);
  };
  addresses("A", a, exp.v4, aaaa);
  addresses("AAAA", aaaa, exp.v6, a);

  // MX: the relay itself, and only it (RFC 5321 §5.1).
  if (typeof mx === "string") fail(`MX ${d}: ${mx}`);
  else {
    const shown = mx.map((r) => `${r.priority} ${r.exchange ? `${bare(r.exchange)}.` : "."}`);
    if (mx.length > 0 && mx.every((r) => bare(r.exchange) === d)) ok(`MX ${d}: ${shown.join(", ")}`);
    else fail(`MX ${d}: expected 10 ${d}., ${found(shown)}`);
  }

  // www. and mta-sts.: a CNAME to the domain (dns.py), or the domain's own addresses.
  for (const host of [`www.${d}`, `mta-sts.${d}`]) {
    const [cname, a4, a6] = await Promise.all([
      ask(() => dns.resolveCname(host)),
      ask(() => dns.resolve4(host)),
      ask(() => dns.resolve6(host)),
    ]);
    const failed = [cname, a4, a6].find((x) => typeof x === "string");
    if (typeof failed === "string" || typeof cname === "string") fail(`CNAME ${host}: ${failed}`);
    else if (cname.length === 1 && bare(cname[0] as string) === d) ok(`CNAME ${host}: ${d}.`);
    else if (
      cname.length === 0 &&
      Array.isArray(a4) &&
      Array.isArray(a6) &&
      Array.isArray(a) &&
      Array.isArray(aaaa) &&
      a4.length + a6.length > 0 &&
      sameSet(a4, a) &&
      sameSet(a6, aaaa)
    )
      ok(`A ${host}: ${[...a4, ...a6].join(", ")} (the addresses of ${d})`);
    else {
      const seen = [
        ...cname.map((c) => `${bare(c)}.`),
        ...(Array.isArray(a4) ? a4 : []),
        ...(Array.isArray(a6) ? a6 : []),
      ];
      fail(`CNAME ${host}: expected ${d}., ${found(seen)}`);
    }
  }

  const [mtaSts, dkim, apex, dmarc] = await Promise.all([
    ask(() => dns.resolveTxt(`_mta-sts.${d}`)),
    ask(() => dns.resolveTxt(`${config.dkim_selector}._domainkey.${d}`)),
    ask(() => dns.resolveTxt(d)),
    ask(() => dns.resolveTxt(`_dmarc.${d}`)),
  ]);

  const mtaStsName = `MTA-STS _mta-sts.${d}`;
  if (typeof mtaSts === "string") fail(`${mtaStsName}: ${mtaSts}`);
  else checkMtaSts(txtOf(mtaSts), `v=STSv1; id=${exp.mtaStsId}`, mtaStsName, out);

  const dkimName = `DKIM ${config.dkim_selector}._domainkey.${d}`;
  if (typeof dkim === "string") fail(`${dkimName}: ${dkim}`);
  else {
    const records = txtOf(dkim).filter((t) => /^\s*v\s*=\s*DKIM1\b/i.test(t) || /(^|;)\s*p\s*=/.test(t));
    const shown = records.map((t) => `"${t}"`);
    if (exp.dkim === null) {
      // a missing key, or data_dir (0700) read by another user than the relay's
      const why = `cannot read the relay's key ${dkimKeyPath(config)}`;
      if (records.length > 0) warn(`${dkimName}: ${why} to compare with, ${found(shown)}`);
      else fail(`${dkimName}: ${why} (run chatrelay init), found nothing`);
    } else if (records.length === 1 && dkimMatches(records[0] as string, exp.dkim))
      ok(`${dkimName}: the relay's key`);
    else fail(`${dkimName}: expected "${exp.dkim}", ${found(shown)}`);
  }

  if (typeof apex === "string") fail(`SPF ${d}: ${apex}`);
  else checkSpf(txtOf(apex), SPF_RECORD, [...exp.v4, ...exp.v6], d, `SPF ${d}`, out);

  if (typeof dmarc === "string") fail(`DMARC _dmarc.${d}: ${dmarc}`);
  else checkDmarc(txtOf(dmarc), DMARC_RECORD, `DMARC _dmarc.${d}`, out);

  if (config.tls_mode === "acme") await checkCaa(d, config.acme_directory, exp.accountUrl, dns, out);

  // SRV (RFC 6186): optional, as in the reference's "Recommended DNS entries".
  const srvs = await Promise.all(
    SRV_RECORDS.map(({ service }) => ask(() => dns.resolveSrv(`${service}.${d}`))),
  );
  for (const [i, { service, port }] of SRV_RECORDS.entries()) {
    const got = srvs[i] as Answer<SrvRecord>;
    const what = `SRV ${service}.${d}`;
    if (typeof got === "string") {
      warn(`${what}: ${got}`);
      continue;
    }
    const shown = got.map((r) => `${r.priority} ${r.weight} ${r.port} ${bare(r.name)}.`);
    if (got.length > 0 && got.every((r) => r.port === port && bare(r.name) === d))
      ok(`${what}: ${shown.join(", ")}`);
    else warn(`${what}: expected 0 1 ${port} ${d}., ${found(shown)}`);
  }
  return out;
}

/** The server's own public addresses: --ip, else listen_address when it is public. */
function knownAddresses(config: Config, ips: string[]): { v4: string[]; v6: string[] } {
  const all = ips.length > 0 ? ips : isPublicAddress(config.listen_address) ? [config.listen_address] : [];
  return { v4: all.filter((ip) => isIP(ip) === 4), v6: all.filter((ip) => isIP(ip) === 6) };
}

export async function runDnsCheck(configPath: string, opts: CheckOptions): Promise<number> {
  const { config } = loadConfig(configPath);
  const d = config.mail_domain;
  if (isIpDomain(d)) {
    process.stdout.write(`OK   IP relay ${d}: no DNS records needed\n`);
    return 0;
  }
  const bad = (opts.ips ?? []).filter((ip) => isIP(ip) === 0);
  if (bad.length > 0) {
    process.stderr.write(`chatrelay dns --check: --ip ${bad[0]} is not an IP address\n`);
    return 2;
  }
  let dns: ZoneResolver;
  try {
    dns = createResolver(opts.server ? [opts.server] : config.dns_servers);
  } catch {
    process.stderr.write(`chatrelay dns --check: --server ${opts.server}: expected IP or IP:port\n`);
    return 2;
  }
  const findings = await checkZone(config, dns, {
    dkim: await dkimRecordText(config),
    accountUrl: await acmeAccountUrl(config),
    ...knownAddresses(config, opts.ips ?? []),
    mtaStsId: new Date().toISOString().replace(/\D/g, "").slice(0, 12),
  });
  const fails = findings.filter((f) => f.level === "FAIL").length;
  const warns = findings.filter((f) => f.level === "WARN").length;
  const lines = findings.map((f) => `${f.level.padEnd(4)} ${f.text}`);
  const warned = warns > 0 ? ` (${warns} warning${warns > 1 ? "s" : ""})` : "";
  lines.push(
    fails > 0
      ? `${fails} required record${fails > 1 ? "s" : ""} missing or wrong${warned}`
      : `all required records are in place${warned}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  return fails > 0 ? 1 : 0;
}
