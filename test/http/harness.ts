/**
 * HttpService on ephemeral loopback ports with a real store and AccountService,
 * plus a small HTTPS/HTTP client that sets any Host header.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { AccountService } from "../../src/accounts/accounts.ts";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import type { Envelope, Origin, Reply } from "../../src/delivery/types.ts";
import { HttpService, type TlsSocketHandler } from "../../src/http/server.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/types.ts";
import { testCertificate } from "../support/tls.ts";

export interface Accepted {
  envelope: Envelope;
  message: Buffer;
  origin: Origin;
}

export interface Harness {
  config: Config;
  store: Store;
  accounts: AccountService;
  service: HttpService;
  httpsPort: number;
  httpPort: number;
  clock: { t: number };
  accepted: Accepted[];
  /** Reply of the stand-in delivery for /mxdeliv. */
  reply: Reply;
  close(): Promise<void>;
}

const nobody: TlsSocketHandler = { handleTlsSocket: (s: TLSSocket) => s.destroy() };

export async function startHttp(
  overrides: Partial<Config> = {},
  opts: { imap?: TlsSocketHandler; smtp?: TlsSocketHandler; ports?: Record<string, number> } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-http-"));
  const config = testConfig({ nocreate_file: join(dir, "nocreate"), ...overrides, data_dir: dir });
  const store = await openStore(dir);
  const accounts = new AccountService({ config, store, log: silentLogger });
  const clock = { t: 1_000_000 };
  const accepted: Accepted[] = [];
  const h = { reply: { code: 250, text: "2.0.0 OK" } } as Harness;
  const delivery = {
    async accept(envelope: Envelope, message: Buffer, origin: Origin): Promise<Reply> {
      accepted.push({ envelope, message, origin });
      return h.reply;
    },
  };
  const live: Record<string, number> = {};
  const service = new HttpService({
    config,
    accounts,
    delivery,
    log: silentLogger,
    tls: await testCertificate(),
    imap: opts.imap ?? nobody,
    smtp: opts.smtp ?? nobody,
    ports: () => ({ ...live, ...opts.ports }),
    now: () => clock.t,
  });
  const https = await service.listenHttps(0, "127.0.0.1");
  const http = await service.listenHttp(0, "127.0.0.1");
  live.https = (https.address() as AddressInfo).port;
  Object.assign(h, {
    config,
    store,
    accounts,
    service,
    httpsPort: live.https,
    httpPort: (http.address() as AddressInfo).port,
    clock,
    accepted,
    async close() {
      await service.close();
      await accounts.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return h;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Plain HTTP instead of HTTPS. */
  plain?: boolean;
}

export function request(port: number, o: RequestOptions = {}): Promise<Response> {
  const make = o.plain ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = make(
      {
        host: "127.0.0.1",
        port,
        method: o.method ?? "GET",
        path: o.path ?? "/",
        headers: { Host: o.host ?? "_chatrelay.test", ...o.headers },
        rejectUnauthorized: false,
        servername: "_chatrelay.test",
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
}
