/**
 * Starts a whole relay for a test: temp data folder, self-signed TLS, every
 * listener on an ephemeral loopback port. `close()` stops it and removes the folder.
 */
import { createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { dkimTxtRecord } from "../../src/dkim/keys.ts";
import { dkimKeyPath } from "../../src/dkim/path.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import { Relay } from "../../src/relay.ts";
import type { DnsServer } from "./dns-server.ts";

export interface TestRelay {
  relay: Relay;
  config: Config;
  host: string;
  domain: string;
  imapsPort: number;
  imapPort: number;
  submissionsPort: number;
  submissionPort: number;
  smtpPort: number;
  httpsPort: number;
  httpPort: number;
  /** Implicit-TLS submission endpoint for `submit()`. */
  submissions: { host: string; port: number };
  /** A fresh address of this relay that logs in (and is created) with `password`. */
  newAddress(): string;
  password: string;
  close(): Promise<void>;
}

let counter = 0;

export async function startTestRelay(
  overrides: Partial<Config> = {},
  opts: {
    log?: Logger;
    keepDataDir?: boolean;
    outboundCa?: string[];
    acmeCa?: string[];
    sendClock?: () => number;
  } = {},
): Promise<TestRelay> {
  const dataDir = overrides.data_dir ?? mkdtempSync(join(tmpdir(), "chatrelay-test-"));
  const config = testConfig({ ...overrides, data_dir: dataDir });
  const relay = await Relay.start(config, opts.log ?? silentLogger, {
    outboundCa: opts.outboundCa,
    acmeCa: opts.acmeCa,
    sendClock: opts.sendClock,
  });
  const p = relay.ports;
  return {
    relay,
    config,
    host: config.listen_address,
    domain: config.mail_domain,
    imapsPort: p.imaps ?? -1,
    imapPort: p.imap ?? -1,
    submissionsPort: p.submissions ?? -1,
    submissions: { host: config.listen_address, port: p.submissions ?? -1 },
    submissionPort: p.submission ?? -1,
    smtpPort: p.smtp ?? -1,
    httpsPort: p.https ?? -1,
    httpPort: p.http ?? -1,
    password: "test-password-123",
    newAddress() {
      counter++;
      const local = `t${process.pid.toString(36)}${counter.toString(36)}`.padEnd(9, "x").slice(0, 9);
      return `${local}@${config.mail_domain}`;
    },
    async close() {
      await relay.stop(1000);
      if (!opts.keepDataDir && overrides.data_dir === undefined)
        rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Publishes a relay's DKIM key as `<selector>._domainkey.<domain>` in a test DNS zone. */
export function publishDkim(dns: DnsServer, r: { config: Config }): void {
  const pub = createPublicKey(readFileSync(dkimKeyPath(r.config), "utf8"))
    .export({ type: "spki", format: "pem" })
    .toString();
  dns.zone.set(`${r.config.dkim_selector}._domainkey.${r.config.mail_domain}`, { TXT: [dkimTxtRecord(pub)] });
}

/** The INBOX of `address` as message texts. */
export async function inbox(r: { relay: Relay }, address: string): Promise<string[]> {
  const store = r.relay.parts.store;
  const box = await store.getMailbox(address, "INBOX");
  if (!box) return [];
  const list = await store.listMessages(box.id);
  return Promise.all(list.map(async (m) => (await store.readBlob(m.blobId)).toString()));
}

export { until } from "./until.ts";
