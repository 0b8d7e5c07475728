/**
 * `chatrelay serve`: run until SIGINT/SIGTERM, then drain and close cleanly.
 * Files are created private (umask 077) and unexpected errors follow the crash
 * policy in crash-policy.ts.
 */
import { embeddedConfig, loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { createLogger } from "../log.ts";
import { Relay } from "../relay.ts";
import { injectTestFaults, installCrashPolicy } from "./crash-policy.ts";

export async function runServe(configPath: string | undefined): Promise<number> {
  // Whatever the service manager's umask: nothing in data_dir is readable by others.
  process.umask(0o077);
  // Signal handlers come first, so a signal during start-up still stops cleanly.
  let signalled: ((signal: string) => void) | undefined;
  let early: string | undefined;
  let first: number | undefined;
  const onSignal = (signal: string) => {
    // A second signal forces the exit, but not within a second of the first: npm
    // forwards the terminal's Ctrl-C to its child, so one keypress arrives twice.
    if (first !== undefined) {
      if (Date.now() - first > 1000) process.exit(1);
      return;
    }
    first = Date.now();
    if (signalled) signalled(signal);
    else early = signal;
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));

  let config: Config;
  let warnings: string[] = [];
  if (configPath) ({ config, warnings } = loadConfig(configPath));
  else config = embeddedConfig();
  const log = createLogger(config.log_level);
  for (const w of warnings) log.warn(w);
  const crash = installCrashPolicy(log);

  const relay = await Relay.start(config, log, { onStoreCorrupt: crash.storeCorrupt });
  process.on("SIGHUP", () => {
    relay
      .reloadCertificate()
      .catch((e: unknown) => log.error({ err: (e as Error).message }, "certificate reload failed"));
  });
  const ports = Object.entries(relay.ports)
    .map(([name, port]) => `${name} ${config.listen_address}:${port}`)
    .join(", ");
  log.info(
    { domain: config.mail_domain, data_dir: config.data_dir, tls: config.tls_mode },
    "chatrelay started",
  );
  injectTestFaults();
  process.stdout.write(
    `chatrelay ${config.mail_domain} (${config.source}) listening: ${ports}\ndata in ${config.data_dir}; Ctrl-C stops, SIGHUP reloads the certificate.\n`,
  );

  const signal = await new Promise<string>((resolve) => {
    signalled = resolve;
    if (early) resolve(early);
  });
  log.info({ signal }, "stopping: draining connections");
  try {
    await relay.stop();
    log.info("stopped");
  } catch (e) {
    log.error({ err: e }, "error while stopping");
  }
  process.exit(0);
}
