/**
 * The `chatrelay` command line: serve, init, dns.
 * Start-up problems are one clear line on stderr and exit code 1, never a stack trace;
 * so is any other failure of a command (the stack only with --debug). A mistake in the
 * command line is one line and the usage on stderr, exit code 2.
 */
import { ConfigError, loadConfig } from "../config/load.ts";
import { parseCommandLine } from "./args.ts";
import { packageVersion } from "./package-info.ts";

const USAGE = `usage: chatrelay <command> [options]

commands:
  serve [--config FILE]            run the relay (without --config: the embedded local default)
  init <domain> [--config FILE] [--data-dir DIR]
                                   write a commented chatmail.ini and a DKIM key, print next steps
                                   (--data-dir: set data_dir in it instead of the default)
  dns [--config FILE]              print the DNS records the relay needs
  dns --check [--server IP[:PORT]] [--ip IP[,IP]] [--config FILE]
                                   resolve them and say what is missing or different
  queue [list|retry [ID]|delete ID] [--config FILE]
                                   the outbound queue: list it, retry now, delete a message
  expire [--config FILE] [--dry-run]
                                   apply retention now (runs daily inside serve)
  status [--config FILE] [--json]  listeners, certificate, store, queues, headroom; exit 1
                                   when something needs attention
  systemd [--config FILE] [--user NAME] [--install]
                                   print a hardened systemd unit (--install: write it to
                                   /etc/systemd/system/chatrelay.service); NAME: chatrelay
  help, --help                     this text
  --version                        the version

--debug: a failing command prints the stack trace of an unexpected error
`;

/** The commands are those the usage lists (a line starting with two spaces and a name). */
const COMMANDS = new Set([...USAGE.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]));

/** Set from the command line: --debug, or --config naming a file with log_level debug. */
const cli: { debug: boolean; config?: string } = { debug: false };

/** A mistake in the command line: one line and the usage on stderr, status 2. */
function usageError(message: string): number {
  process.stderr.write(`chatrelay: ${message}\n${USAGE}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, {
    config: { type: "string", short: "c" },
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "V" },
    debug: { type: "boolean" },
    "dry-run": { type: "boolean" },
    check: { type: "boolean" },
    server: { type: "string" },
    ip: { type: "string" },
    install: { type: "boolean" },
    user: { type: "string" },
    json: { type: "boolean" },
    "data-dir": { type: "string" },
  });
  const [command, ...rest] = parsed.positionals;
  if (command !== undefined && !COMMANDS.has(command)) return usageError(`unknown command "${command}"`);
  if (parsed.error !== undefined) return usageError(parsed.error);
  const values = parsed.values as {
    config?: string;
    help?: boolean;
    version?: boolean;
    debug?: boolean;
    "dry-run"?: boolean;
    check?: boolean;
    server?: string;
    ip?: string;
    install?: boolean;
    user?: string;
    json?: boolean;
    "data-dir"?: string;
  };
  cli.debug = values.debug ?? false;
  cli.config = values.config;
  if (values.version) {
    process.stdout.write(`chatrelay ${packageVersion()}\n`);
    return 0;
  }
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  // Each command loads only what it needs (`--version` and `status` stay small).
  switch (command) {
    case "serve":
      return (await import("./serve.ts")).runServe(values.config);
    case "init":
      return (await import("./init.ts")).runInit(
        rest[0],
        values.config ?? "chatmail.ini",
        values["data-dir"],
      );
    case "dns":
      if (values.check) {
        const ips = (values.ip ?? "").split(/[\s,]+/).filter((ip) => ip !== "");
        return (await import("./dns-check.ts")).runDnsCheck(values.config ?? "chatmail.ini", {
          server: values.server,
          ips,
        });
      }
      return (await import("./dns.ts")).runDns(values.config ?? "chatmail.ini");
    case "expire":
      return (await import("./expire.ts")).runExpire(
        values.config ?? "chatmail.ini",
        values["dry-run"] ?? false,
      );
    case "status":
      return (await import("./status.ts")).runStatus(values.config, values.json ?? false);
    case "queue":
      return (await import("./queue.ts")).runQueue(values.config ?? "chatmail.ini", rest);
    case "systemd":
      return (await import("./systemd.ts")).runSystemd(values.config ?? "chatmail.ini", {
        install: values.install ?? false,
        user: values.user ?? "chatrelay",
      });
    default:
      return usageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== "serve") process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`chatrelay: ${describeFailure(e)}\n`);
    process.exitCode = 1;
  },
);

/** log_level debug or trace in the --config file asks for stacks like --debug. */
function debugWanted(): boolean {
  if (cli.debug) return true;
  if (cli.config === undefined) return false;
  try {
    const level = loadConfig(cli.config).config.log_level;
    return level === "debug" || level === "trace";
  } catch {
    return false;
  }
}

/**
 * A failed command in one line: the message of an expected failure (a bad
 * config, a start-up problem); for anything else its class and message, and
 * the stack only when debugging.
 */
function describeFailure(e: unknown): string {
  if (!(e instanceof Error)) return `unexpected failure: ${String(e).split("\n")[0]}`;
  if (e instanceof ConfigError || e.name === "StartupError" || e.constructor.name === "StartupError") {
    return e.message;
  }
  if (debugWanted()) return e.stack ?? `${e.name}: ${e.message}`;
  const code = (e as { code?: unknown }).code;
  const what = `${e.name}${typeof code === "string" ? ` (${code})` : ""}: ${e.message.split("\n")[0]}`;
  return `${what} (run with --debug for the stack trace)`;
}
