/** `chatrelay serve`: run until SIGINT/SIGTERM, then drain and close cleanly. */
import { embeddedConfig, loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { createLogger } from "../log.ts";
import { Relay } from "../relay.ts";

export async function runServe(configPath: string | undefined): Promise<number> {
  let config: Config;
  let warnings: string[] = [];
  if (configPath) ({ config, warnings } = loadConfig(configPath));
  else config = embeddedConfig();
  const log = createLogger(config.log_level);
  for (const w of warnings) log.warn(w);

  const relay = await Relay.start(config, log);
  const ports = Object.entries(relay.ports)
    .map(([name, port]) => `${name} ${config.listen_address}:${port}`)
    .join(", ");
  log.info(
    { domain: config.mail_domain, data_dir: config.data_dir, tls: config.tls_mode },
    "chatrelay started",
  );
  process.stdout.write(
    `chatrelay ${config.mail_domain} (${config.source}) listening: ${ports}\ndata in ${config.data_dir}; Ctrl-C stops, SIGHUP reloads the certificate.\n`,
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, "stopping: draining connections");
      relay.stop().then(
        () => {
          log.info("stopped");
          resolve();
        },
        (e: unknown) => {
          log.error({ err: e }, "error while stopping");
          resolve();
        },
      );
    };
    process.on("SIGHUP", () => {
      relay
        .reloadCertificate()
        .catch((e: unknown) => log.error({ err: (e as Error).message }, "certificate reload failed"));
    });
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
  process.exit(0);
}
