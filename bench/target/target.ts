/**
 * What the load generator points at: chatrelay started here in a child
 * process (default), or any IMAP/SMTP server given by host and port.
 */
import { fileURLToPath } from "node:url";
import type { Flags } from "../flags.ts";
import { type AccountSource, fileAccounts, patternAccounts } from "../load/accounts.ts";
import type { ImapEndpoint, TlsMode } from "../load/imap.ts";
import { type MemSample, serverMemory } from "../load/procmem.ts";
import type { SmtpEndpoint } from "../load/smtp.ts";
import { type ChatrelayChild, startChatrelay } from "./chatrelay.ts";

export interface Target {
  name: string;
  imap: ImapEndpoint;
  smtp: SmtpEndpoint;
  accounts: AccountSource;
  /** The server's memory now, if known. */
  memory(): MemSample | undefined;
  /** chatrelay: full GC in the server before a memory sample. */
  gc(): Promise<{ heapUsed: number } | undefined>;
  child?: ChatrelayChild;
  describe: string;
  close(): Promise<void>;
}

export const RESULTS_DIR = fileURLToPath(new URL("../results/", import.meta.url));

export async function openTarget(flags: Flags): Promise<Target> {
  const imapTls = (flags["imap-tls"] || flags.tls) as TlsMode;
  const smtpTls = (flags["smtp-tls"] || flags.tls) as TlsMode;
  const servername = flags.servername || flags.domain;
  const verify = flags["verify-tls"];
  const accounts = flags["accounts-file"]
    ? fileAccounts(flags["accounts-file"])
    : patternAccounts(flags["user-pattern"], flags["user-start"], flags.domain, flags.password);
  if (flags["imap-host"]) {
    const pids = flags["server-pids"].split(",").filter(Boolean).map(Number);
    const names = flags["server-procs"].split(",").filter(Boolean);
    const imap = { host: flags["imap-host"], port: flags["imap-port"], tls: imapTls, servername, verify };
    const smtp = {
      host: flags["smtp-host"] || flags["imap-host"],
      port: flags["smtp-port"],
      tls: smtpTls,
      servername,
      verify,
    };
    return {
      name: flags.target || "external",
      imap,
      smtp,
      accounts,
      memory: () => serverMemory(pids, names),
      gc: async () => undefined,
      describe: `IMAP ${imap.host}:${imap.port} (${imapTls}), SMTP ${smtp.host}:${smtp.port} (${smtpTls}), accounts ${accounts.describe}`,
      close: async () => {},
    };
  }
  const child = await startChatrelay({
    accounts: flags.accounts,
    pattern: flags["user-pattern"],
    start: flags["user-start"],
    domain: flags.domain,
    password: flags.password,
    preload: flags["relay-preload"] || undefined,
    nodeFlags: flags["relay-node-flags"].split(" ").filter(Boolean),
    dist: flags["relay-dist"] || undefined,
  });
  const host = child.host;
  // implicit TLS on 993/465-style ports unless asked otherwise
  const imapPort = imapTls === "implicit" ? child.ports.imaps! : child.ports.imap!;
  const smtpPort = smtpTls === "implicit" ? child.ports.submissions! : child.ports.submission!;
  return {
    name: flags.target || "chatrelay",
    imap: { host, port: imapPort, tls: imapTls, servername, verify },
    smtp: { host, port: smtpPort, tls: smtpTls, servername, verify },
    accounts,
    memory: () => serverMemory([child.pid], []),
    gc: async () => child.gc(),
    child,
    describe: `chatrelay child pid ${child.pid}: IMAP ${host}:${imapPort} (${imapTls}), SMTP ${host}:${smtpPort} (${smtpTls}), ${flags.accounts} accounts ${accounts.describe}`,
    close: () => child.stop(),
  };
}
