/**
 * The composition root: builds every room from one Config, starts the
 * listeners, and stops them again. Nothing else wires rooms together.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo, Server } from "node:net";
import { AccountService } from "./accounts/accounts.ts";
import type { Config } from "./config/types.ts";
import { LocalEventBus } from "./events/bus.ts";
import { ImapServer } from "./imap/server.ts";
import type { Logger } from "./log.ts";
import { openStore } from "./store/open.ts";
import type { Store } from "./store/types.ts";
import { loadTlsMaterial, StartupError } from "./tls/material.ts";

export { StartupError };

export type ListenerName = "smtp" | "submission" | "submissions" | "imap" | "imaps" | "https" | "http";

export interface RelayParts {
  config: Config;
  log: Logger;
  store: Store;
  bus: LocalEventBus;
  accounts: AccountService;
  imap: ImapServer;
}

/** Turns "address in use" and friends into one clear start-up line. */
export async function bound(name: ListenerName, host: string, port: number, start: () => Promise<Server>) {
  try {
    return await start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "EADDRINUSE"
        ? "address already in use"
        : err.code === "EACCES"
          ? "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
          : err.message;
    throw new StartupError(`cannot listen on ${host}:${port} (${name}): ${why}`);
  }
}

export class Relay {
  readonly ports: Partial<Record<ListenerName, number>> = {};
  private readonly servers: Server[] = [];

  private constructor(readonly parts: RelayParts) {}

  static async start(config: Config, log: Logger): Promise<Relay> {
    try {
      await mkdir(config.data_dir, { recursive: true });
    } catch (e) {
      throw new StartupError(`cannot create data_dir ${config.data_dir}: ${(e as Error).message}`);
    }
    const tls = await loadTlsMaterial(config);
    const store = await openStore(config.data_dir, { log });
    const bus = new LocalEventBus();
    const accounts = new AccountService({ config, store, log });
    const imap = new ImapServer({ config, store, accounts, bus, log, tls });
    const relay = new Relay({ config, log, store, bus, accounts, imap });
    try {
      await relay.listen("imaps", config.imaps_port, () => imap.listen(config.imaps_port, config.listen_address, "implicit"));
      await relay.listen("imap", config.imap_port, () => imap.listen(config.imap_port, config.listen_address, "starttls"));
    } catch (e) {
      await relay.stop();
      throw e;
    }
    return relay;
  }

  private async listen(name: ListenerName, port: number, start: () => Promise<Server>): Promise<void> {
    // a negative port ("off" in the file) disables a listener; 0 picks a free one
    if (port < 0) return;
    const server = await bound(name, this.parts.config.listen_address, port, start);
    this.servers.push(server);
    this.ports[name] = (server.address() as AddressInfo).port;
  }

  /** Drains sessions, then closes the store. */
  async stop(graceMs = 5000): Promise<void> {
    const { imap, store, accounts } = this.parts;
    await imap.close(graceMs);
    for (const s of this.servers) s.close();
    await accounts.close();
    await store.close();
  }
}
