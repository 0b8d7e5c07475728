// The world of an accounts-service test: a fresh data folder with a real
// SQLite store, and a config for chat.test whose nocreate file lies in that
// folder and whose load, memory and disk limits a busy test machine cannot trip.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/types.ts";

export interface AccountsWorld {
  config: Config;
  store: Store;
  /** Closes the store and removes the folder. */
  close(): Promise<void>;
}

export async function accountsWorld(prefix: string): Promise<AccountsWorld> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = testConfig({
    data_dir: dir,
    mail_domain: "chat.test",
    nocreate_file: join(dir, "nocreate"),
    // the limits are tested one by one; a busy test machine must not trip them
    max_load_1m: 1e9,
    min_available_memory: 0,
    min_free_disk_space: 0,
  });
  const store = await openStore(dir);
  return {
    config,
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
