/** A whole relay for interop tests, with extra CAs trusted for outbound TLS. */
import { createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { dkimTxtRecord } from "../../src/dkim/keys.ts";
import { dkimKeyPath } from "../../src/dkim/path.ts";
import { silentLogger } from "../../src/log.ts";
import { Relay } from "../../src/relay.ts";
import type { DnsServer } from "../support/dns-server.ts";

export interface InteropRelay {
  relay: Relay;
  config: Config;
  submissions: { host: string; port: number };
  smtpPort: number;
  close(): Promise<void>;
}

export async function startInteropRelay(
  overrides: Partial<Config>,
  outboundCa?: string[],
): Promise<InteropRelay> {
  const dataDir = mkdtempSync(join(tmpdir(), "chatrelay-interop-"));
  const config = testConfig({ ...overrides, data_dir: dataDir });
  const relay = await Relay.start(config, silentLogger, { outboundCa });
  return {
    relay,
    config,
    submissions: { host: config.listen_address, port: relay.ports.submissions ?? -1 },
    smtpPort: relay.ports.smtp ?? -1,
    async close() {
      await relay.stop(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Publishes the relay's DKIM key as `<selector>._domainkey.<domain>`. */
export function publishDkim(dns: DnsServer, r: InteropRelay): void {
  const pub = createPublicKey(readFileSync(dkimKeyPath(r.config), "utf8"))
    .export({ type: "spki", format: "pem" })
    .toString();
  dns.zone.set(`${r.config.dkim_selector}._domainkey.${r.config.mail_domain}`, { TXT: [dkimTxtRecord(pub)] });
}

/** The INBOX of `address` as message texts. */
export async function inbox(r: InteropRelay, address: string): Promise<string[]> {
  const store = r.relay.parts.store;
  const box = await store.getMailbox(address, "INBOX");
  if (!box) return [];
  const list = await store.listMessages(box.id);
  return Promise.all(list.map(async (m) => (await store.readBlob(m.blobId)).toString()));
}

/** Polls `f` until it gives a value; the error names `what` and, if given, `detail()`. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  detail?: () => string,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
