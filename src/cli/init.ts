/** `chatrelay init <domain>`: a commented chatmail.ini, the DKIM key, next steps. */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { isIpDomain } from "../config/domain.ts";
import { loadConfig } from "../config/load.ts";
import { renderIni } from "../config/template.ts";
import { loadOrCreateDkimKey } from "../dkim/keys.ts";
import { dkimKeyPath } from "../dkim/path.ts";
import { dnsRecords } from "./dns.ts";

const DOMAIN =
  /^(?=.{1,253}$)(_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** `dataDir` (from --data-dir) is written into the file as data_dir, uncommented. */
export async function runInit(
  domain: string | undefined,
  configPath: string,
  dataDir?: string,
): Promise<number> {
  if (!domain || !(DOMAIN.test(domain) || isIpDomain(domain))) {
    process.stderr.write("chatrelay init: give the mail domain, e.g. `chatrelay init chat.example.org`\n");
    return 2;
  }
  const path = resolve(configPath);
  if (existsSync(path)) {
    process.stderr.write(`chatrelay init: ${path} exists; not overwriting it\n`);
    return 1;
  }
  await writeFile(path, renderIni(domain, dataDir === undefined ? {} : { values: { data_dir: dataDir } }));
  const { config } = loadConfig(path);
  const lines = [`wrote ${path}`];
  if (!isIpDomain(domain)) {
    const keyPath = dkimKeyPath(config);
    await loadOrCreateDkimKey(keyPath);
    lines.push(`DKIM key (selector ${config.dkim_selector}) in ${keyPath}`);
  }
  lines.push(
    "",
    "next steps:",
    `  1. create these DNS records (also: chatrelay dns --config ${configPath}):`,
    ...(await dnsRecords(config)).map((r) => `       ${r}`),
    `  2. review ${path} (ports, data_dir, TLS, privacy_* contacts)`,
    `  3. run: chatrelay serve --config ${path}`,
    `     (ports below 1024 need root or: setcap cap_net_bind_service=+ep $(command -v node))`,
    `  data will live in ${config.data_dir}`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
