/**
 * `chatrelay dns`: the record set the relay needs (the reference's zone, chatmail/relay
 * cmdeploy/src/cmdeploy/dns.py `get_filled_zone_file`), printed as zone-file lines;
 * `dns --check` resolves them (dns-check.ts).
 */

import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIpDomain } from "../config/domain.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { dkimTxtRecord } from "../dkim/keys.ts";
import { dkimKeyPath } from "../dkim/path.ts";
import { readAccountUrl } from "../tls/acme-files.ts";

export const SPF_RECORD = "v=spf1 a ~all";
export const DMARC_RECORD = "v=DMARC1;p=reject;adkim=s;aspf=s";

/** RFC 6186 §3: where clients find submission and IMAP; the standard ports, as the reference. */
export const SRV_RECORDS: readonly { service: string; port: number }[] = [
  { service: "_submission._tcp", port: 587 },
  { service: "_submissions._tcp", port: 465 },
  { service: "_imap._tcp", port: 143 },
  { service: "_imaps._tcp", port: 993 },
];

/** The DKIM TXT record's text for the configured key, or null when there is no key yet. */
export async function dkimRecordText(config: Config): Promise<string | null> {
  try {
    const pem = await readFile(dkimKeyPath(config), "utf8");
    return dkimTxtRecord(createPublicKey(pem).export({ type: "spki", format: "pem" }).toString());
  } catch {
    return null;
  }
}

/**
 * The ACME account URL once the relay has an account at `acme_directory`, for the CAA
 * accounturi (RFC 8657 §3); null without one or when data_dir cannot be read.
 */
export async function acmeAccountUrl(config: Config): Promise<string | null> {
  if (config.tls_mode !== "acme") return null;
  try {
    return (await readAccountUrl(config.data_dir, config.acme_directory)) ?? null;
  } catch {
    return null;
  }
}

/** RFC 8659 §4.2 with the RFC 8657 accounturi parameter. */
export function caaIssueValue(accountUrl: string): string {
  return `letsencrypt.org;accounturi=${accountUrl}`;
}

export async function dnsRecords(config: Config): Promise<string[]> {
  const d = config.mail_domain;
  if (isIpDomain(d)) return [`(IP relay ${d}: no DNS records needed)`];
  const records = [
    `${d}. 3600 IN A <your IPv4 address>`,
    `${d}. 3600 IN AAAA <your IPv6 address, if any>`,
    `${d}. 3600 IN MX 10 ${d}.`,
    `www.${d}. 3600 IN CNAME ${d}.`,
    `mta-sts.${d}. 3600 IN CNAME ${d}.`,
    `_mta-sts.${d}. 3600 IN TXT "v=STSv1; id=${new Date().toISOString().replace(/\D/g, "").slice(0, 12)}"`,
  ];
  const dkim = await dkimRecordText(config);
  if (dkim !== null) {
    const chunks = dkim.match(/.{1,255}/g) ?? [];
    records.push(
      `${config.dkim_selector}._domainkey.${d}. 3600 IN TXT ${chunks.map((c) => `"${c}"`).join(" ")}`,
    );
  } else {
    records.push(`(no DKIM key yet at ${dkimKeyPath(config)}: run chatrelay init or start the relay once)`);
  }
  records.push(`${d}. 3600 IN TXT "${SPF_RECORD}"`, `_dmarc.${d}. 3600 IN TXT "${DMARC_RECORD}"`);
  const account = await acmeAccountUrl(config);
  if (account !== null) records.push(`${d}. 3600 IN CAA 0 issue "${caaIssueValue(account)}"`);
  for (const { service, port } of SRV_RECORDS) records.push(`${service}.${d}. 3600 IN SRV 0 1 ${port} ${d}.`);
  return records;
}

export async function runDns(configPath: string): Promise<number> {
  const { config } = loadConfig(configPath);
  process.stdout.write(`${(await dnsRecords(config)).join("\n")}\n`);
  return 0;
}
