/**
 * One client connection of a test run: its capabilities, its view of the
 * selected mailbox (message count for `$N`), and command framing with literals
 * (LITERAL+ when offered, RFC 7888; synchronizing otherwise).
 */
import { asciiUpper, atomOf, equalsIgnoreCase, imapQuote, parseImapArgs } from "./args.ts";
import { capabilitiesOf, ImapConnection, type ImapResponse } from "./client.ts";

export interface ImaptestServer {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  password: string;
  /** Test mailbox (`$mailbox`), default "imaptest". */
  mailbox?: string;
  /** A second account for scripts with `user 2: $user2`; those are skipped without it. */
  user2?: { user: string; password: string };
}

export class Conn {
  tagCounter = 1;
  caps: string[] = [];
  user = "";
  password = "";
  /** Messages in the selected mailbox as this connection knows it. */
  count = 0;
  seenBye = false;
  loggingOut = false;
  constructor(
    readonly client: ImapConnection,
    readonly index: number,
    public storageName: string,
  ) {}

  nextTag(): string {
    return `${this.index + 1}.${this.tagCounter++}`;
  }

  get literalPlus(): boolean {
    return this.caps.some((c) => equalsIgnoreCase(c, "LITERAL+"));
  }

  /** Applies a response to the connection's view of the mailbox (imap_client_handle_untagged). */
  track(r: ImapResponse): void {
    const caps = capabilitiesOf(r);
    if (caps !== null) this.caps = caps;
    if (r.kind !== "untagged") return;
    const a0 = atomOf(r.args[0]);
    if (a0 === null) return;
    if (/^\d+$/.test(a0)) {
      const n = Number(a0);
      const kw = asciiUpper(atomOf(r.args[1]) ?? "");
      if (kw === "EXISTS") this.count = n;
      else if (kw === "EXPUNGE" && n >= 1 && n <= this.count) this.count--;
      return;
    }
    const word = asciiUpper(a0);
    if (word === "BYE") this.seenBye = true;
    else if (word === "VANISHED" && r.args[1]?.type !== "list") {
      const set = atomOf(r.args[1]) ?? "";
      let n = 0;
      for (const range of set.split(",")) {
        const [a, b] = range.split(":").map(Number);
        n += b === undefined ? 1 : Math.abs(b - a!) + 1;
      }
      this.count = Math.max(0, this.count - n);
    }
  }
}

/** command_get_cmdline(): splits a command into parts at the `{n}` literals it contains. */
export function splitLiterals(
  cmd: string,
): { head: string; literal?: { size: number; plus: boolean; binary: boolean } }[] {
  const parts: { head: string; literal?: { size: number; plus: boolean; binary: boolean } }[] = [];
  let rest = cmd;
  let head = "";
  for (;;) {
    const nl = rest.indexOf("\n");
    if (nl < 0) break;
    const line = rest.slice(0, nl + 1);
    rest = rest.slice(nl + 1);
    const m = / (~?)\{(\d+)(\+?)\}\r?\n$/.exec(line);
    if (!m) {
      head += line;
      continue;
    }
    head += line.slice(0, m.index + 1);
    const size = Number(m[2]);
    parts.push({ head, literal: { size, plus: m[3] === "+", binary: m[1] === "~" } });
    head = rest.slice(0, size);
    rest = rest.slice(size);
  }
  parts.push({ head: head + rest });
  return parts;
}

/** append_has_body(): does `APPEND <args>` already carry its message (a literal or CATENATE)? */
export function appendHasBody(args: string): boolean {
  const r = parseImapArgs(args, { multilineString: true });
  if (!r.ok || r.args.length === 0) return false;
  let i = 0;
  if (r.args[i + 1]?.type === "list") i++;
  if (r.args[i + 1]?.type === "string") i++;
  const a = r.args[i + 1];
  return a?.type === "literal" || (a?.type === "atom" && equalsIgnoreCase(a.value, "catenate"));
}

export interface ServerCapabilities {
  /** Before login (greeting code or CAPABILITY): what `state: nonauth` scripts are selected by. */
  preLogin: string[];
  /** After login: what all other scripts are selected by. */
  postLogin: string[];
}

/** Asks a server for its capabilities before and after LOGIN (to select the scripts it can run). */
export async function serverCapabilities(
  server: ImaptestServer,
  timeoutMs = 15_000,
): Promise<ServerCapabilities> {
  const c = await ImapConnection.connect({ host: server.host, port: server.port, tls: server.tls });
  try {
    const step = async (tag: string, cmd: string): Promise<string[] | null> => {
      c.write(`${tag} ${cmd}\r\n`);
      let caps: string[] | null = null;
      for (;;) {
        const r = await c.next(timeoutMs);
        if (typeof r === "string") throw new Error(`${r} while reading capabilities`);
        caps = capabilitiesOf(r) ?? caps;
        if (r.kind === "tagged" && r.tag === tag) {
          if (!equalsIgnoreCase(atomOf(r.args[0]) ?? "", "OK")) {
            throw new Error(`${cmd.split(" ")[0]} failed: ${r.text}`);
          }
          return caps;
        }
      }
    };
    const greeting = await c.next(timeoutMs);
    if (typeof greeting === "string") throw new Error(`no greeting (${greeting})`);
    const preLogin = capabilitiesOf(greeting) ?? (await step("a", "CAPABILITY")) ?? [];
    await step("b", `LOGIN ${imapQuote(server.user)} ${imapQuote(server.password)}`);
    return { preLogin, postLogin: (await step("c", "CAPABILITY")) ?? [] };
  } finally {
    await c.close();
  }
}
