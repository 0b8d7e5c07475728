/** Where the DKIM private key lives: <data_dir>/dkim/<selector>.private. */
import { join } from "node:path";
import type { Config } from "../config/types.ts";

export function dkimKeyPath(config: Config): string {
  return join(config.data_dir, "dkim", `${config.dkim_selector}.private`);
}
