/**
 * An ImapServer on 127.0.0.1 (ephemeral ports) with a real store in a temp
 * folder, the real accounts service, a LocalEventBus and a self-signed
 * certificate. Deliveries go through store.deliver + bus.publish, as the
 * delivery room does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { AccountService } from "../../../src/accounts/accounts.ts";
import { testConfig } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/types.ts";
import { LocalEventBus } from "../../../src/events/bus.ts";
import type { SessionLimits } from "../../../src/imap/context.ts";
import { ImapServer } from "../../../src/imap/server.ts";
import { type Logger, silentLogger } from "../../../src/log.ts";
import { openStore } from "../../../src/store/open.ts";
import type { MessageRecord, Store } from "../../../src/store/types.ts";
import { testCertificate } from "../../support/tls.ts";

export interface ImapHarness {
  server: ImapServer;
  store: Store;
  bus: LocalEventBus;
  accounts: AccountService;
  config: Config;
  /** Implicit-TLS port. */
  port: number;
  /** STARTTLS port. */
  plainPort: number;
  password: string;
  /** A new account (created through a login), its address. */
  newUser(): Promise<string>;
  /** A connected imapflow client for `user` over implicit TLS. */
  imapflow(user: string): Promise<ImapFlow>;
  /** Delivers a message to INBOXes as the delivery room does: durable store, then publish. */
  deliver(addresses: string[], data: string | Buffer): Promise<Map<string, MessageRecord>>;
  close(): Promise<void>;
}

let counter = 0;

export async function startImap(
  opts: { config?: Partial<Config>; limits?: Partial<SessionLimits>; log?: Logger } = {},
): Promise<ImapHarness> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-imap-"));
  const config = testConfig({ data_dir: dir, ...opts.config });
  const store = await openStore(dir);
  const bus = new LocalEventBus();
  const accounts = new AccountService({ config, store, log: silentLogger });
  const cert = await testCertificate();
  const server = new ImapServer({
    config,
    store,
    accounts,
    bus,
    log: opts.log ?? silentLogger,
    tls: cert,
    limits: { failedLoginDelay: [20, 40], sweepInterval: 100, ...opts.limits },
  });
  const tlsServer = await server.listen(0, "127.0.0.1", "implicit");
  const plainServer = await server.listen(0, "127.0.0.1", "starttls");
  const password = "test-password-123";
  const port = (tlsServer.address() as { port: number }).port;
  return {
    server,
    store,
    bus,
    accounts,
    config,
    port,
    plainPort: (plainServer.address() as { port: number }).port,
    password,
    async newUser() {
      counter++;
      const local = `u${process.pid.toString(36)}${counter.toString(36)}`.padEnd(9, "0").slice(-9);
      const address = `${local}@${config.mail_domain}`;
      const res = await accounts.login(address, password, "imap", "127.0.0.1");
      if (!res.ok) throw new Error(`cannot create ${address}: ${res.detail}`);
      return address;
    },
    async imapflow(user) {
      const client = new ImapFlow({
        host: "127.0.0.1",
        port,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user, pass: password },
        logger: false,
      });
      await client.connect();
      return client;
    },
    async deliver(addresses, data) {
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      const map = await store.deliver(addresses, { data: buf });
      for (const [address, rec] of map) {
        bus.publish({ kind: "exists", address, mailboxId: rec.mailboxId, records: [rec] });
      }
      return map;
    },
    async close() {
      await server.close(500);
      await accounts.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small RFC 5322 message. */
export function message(
  opts: { subject?: string; from?: string; to?: string; body?: string; id?: string } = {},
): string {
  counter++;
  return [
    `From: ${opts.from ?? "Alice <alice@example.org>"}`,
    `To: ${opts.to ?? "bob@example.org"}`,
    `Subject: ${opts.subject ?? "Hello"}`,
    "Date: Mon, 7 Feb 1994 21:52:25 -0800",
    `Message-ID: <${opts.id ?? `m${counter}`}@example.org>`,
    "Chat-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.body ?? "Hello, world!",
    "",
  ].join("\r\n");
}
