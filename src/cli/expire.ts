/** `chatrelay expire`: retention now (the relay also runs it daily at 00:02 UTC). */
import { loadConfig } from "../config/load.ts";
import { LocalEventBus } from "../events/bus.ts";
import { expire } from "../expire/expire.ts";
import { createLogger } from "../log.ts";
import { openStore } from "../store/open.ts";

export async function runExpire(configPath: string, dryRun: boolean): Promise<number> {
  const { config } = loadConfig(configPath);
  const store = await openStore(config.data_dir);
  try {
    const r = await expire({ config, store, bus: new LocalEventBus(), log: createLogger("warn"), dryRun });
    process.stdout.write(
      `${dryRun ? "would remove" : "removed"} ${r.accountsRemoved} of ${r.accounts} accounts and ${r.messagesRemoved} of ${r.messages} messages\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
