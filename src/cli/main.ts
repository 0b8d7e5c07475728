/**
 * The `chatrelay` command line: serve, init, dns.
 * Start-up problems are one clear line on stderr and exit code 1, never a stack trace.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../config/load.ts";
import { runDns } from "./dns.ts";
import { runExpire } from "./expire.ts";
import { runInit } from "./init.ts";
import { runQueue } from "./queue.ts";
import { runServe } from "./serve.ts";

const USAGE = `usage: chatrelay <command> [options]

commands:
  serve [--config FILE]            run the relay (without --config: the embedded local default)
  init <domain> [--config FILE]    write a commented chatmail.ini and a DKIM key, print next steps
  dns [--config FILE]              print the DNS records the relay needs
  queue [list|retry [ID]|delete ID] [--config FILE]
                                   the outbound queue: list it, retry now, delete a message
  expire [--config FILE] [--dry-run]
                                   apply retention now (runs daily inside serve)
  help                             this text
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      help: { type: "boolean", short: "h" },
      "dry-run": { type: "boolean" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (command) {
    case "serve":
      return runServe(values.config);
    case "init":
      return runInit(rest[0], values.config ?? "chatmail.ini");
    case "dns":
      return runDns(values.config ?? "chatmail.ini");
    case "expire":
      return runExpire(values.config ?? "chatmail.ini", values["dry-run"] ?? false);
    case "queue":
      return runQueue(values.config ?? "chatmail.ini", rest);
    default:
      process.stderr.write(`chatrelay: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== "serve") process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as Error;
    const known =
      err instanceof ConfigError || err.name === "StartupError" || err.constructor.name === "StartupError";
    process.stderr.write(`chatrelay: ${known ? err.message : (err.stack ?? String(err))}\n`);
    process.exitCode = 1;
  },
);
