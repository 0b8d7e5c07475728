/** `chatrelay dns`: the record set of reference §5.4 for the configured domain. */

import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIpDomain } from "../config/domain.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { dkimTxtRecord } from "../dkim/keys.ts";
import { dkimKeyPath } from "../dkim/path.ts";

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
  try {
    const pem = await readFile(dkimKeyPath(config), "utf8");
    const pub = createPublicKey(pem).export({ type: "spki", format: "pem" }).toString();
    const txt = dkimTxtRecord(pub);
    const chunks = txt.match(/.{1,255}/g) ?? [];
    records.push(
      `${config.dkim_selector}._domainkey.${d}. 3600 IN TXT ${chunks.map((c) => `"${c}"`).join(" ")}`,
    );
  } catch {
    records.push(`(no DKIM key yet at ${dkimKeyPath(config)}: run chatrelay init or start the relay once)`);
  }
  records.push(
    `${d}. 3600 IN TXT "v=spf1 a ~all"`,
    `_dmarc.${d}. 3600 IN TXT "v=DMARC1;p=reject;adkim=s;aspf=s"`,
    `_submission._tcp.${d}. 3600 IN SRV 0 1 587 ${d}.`,
    `_submissions._tcp.${d}. 3600 IN SRV 0 1 465 ${d}.`,
    `_imap._tcp.${d}. 3600 IN SRV 0 1 143 ${d}.`,
    `_imaps._tcp.${d}. 3600 IN SRV 0 1 993 ${d}.`,
  );
  return records;
}

export async function runDns(configPath: string): Promise<number> {
  const { config } = loadConfig(configPath);
  process.stdout.write(`${(await dnsRecords(config)).join("\n")}\n`);
  return 0;
}
