/**
 * Runs one parsed imaptest script against an IMAP server, the way imaptest's
 * scripted-test mode does: N connections log in, the first one deletes every
 * `<mailbox>*` mailbox, creates `<mailbox>`, appends messages from the mbox and
 * every connection SELECTs it (as far as the script's `state:` asks). Then the
 * command groups run one after another; only the group's own connection is
 * read while it runs, so untagged replies meant for another connection wait
 * for that connection's next group.
 */
import {
  argsToString,
  asciiUpper,
  astringOf,
  atomOf,
  equalsIgnoreCase,
  imapQuote,
  parseImapArgs,
} from "./args.ts";
import { capabilitiesOf, ImapConnection, type ImapResponse } from "./client.ts";
import { type GroupState, groupFailures, matchUntagged, newGroupState } from "./expect.ts";
import { expandAll, FULL, MatchEnv, matchArgs } from "./matcher.ts";
import { MboxSource } from "./mbox.ts";
import {
  appendHasBody,
  Conn,
  type ImaptestServer,
  type ServerCapabilities,
  splitLiterals,
} from "./session.ts";

export { type ServerCapabilities, serverCapabilities } from "./session.ts";
export type { ImaptestServer };

import { type CommandGroup, isUser2Ref, type Script, type ScriptCommand } from "./script.ts";

export interface RunOptions {
  /** How long to wait for any one server response (default 15 s). */
  timeoutMs?: number;
  /** Receives `!output` lines. */
  log?: (line: string) => void;
  /** Send `{n+}` literals when the server offers LITERAL+ (default true); false forces synchronizing literals. */
  literalPlus?: boolean;
}

export interface ImaptestResult {
  ok: boolean;
  failures: string[];
  /** Set when the script was not run (missing capabilities or second user). */
  skipped?: string;
}

/** Whether the server's capabilities cover the script's `capabilities:` header (case-insensitive). */
export function hasCapabilities(script: Script, caps: readonly string[]): boolean {
  return (script.capabilities ?? []).every((r) => caps.some((c) => equalsIgnoreCase(c, r)));
}

/** Scripts start before login (`state: nonauth`) or after it; each is checked against that state's capabilities. */
export function canRun(script: Script, caps: ServerCapabilities): boolean {
  return hasCapabilities(script, script.state === "nonauth" ? caps.preLogin : caps.postLogin);
}

class Abort extends Error {}

type Sink = (r: ImapResponse) => void;

const isAppendText = (s: string) => /^append$/i.test(s);

class TestRun {
  private readonly env = new MatchEnv();
  private readonly source: MboxSource;
  private readonly conns: Conn[] = [];
  private readonly failures: string[] = [];
  private readonly timeoutMs: number;
  private groupIdx = -1;
  private initDone = false;
  private readonly mailbox: string;
  private greeting: ImapResponse | null = null;

  constructor(
    private readonly script: Script,
    mbox: Buffer,
    private readonly server: ImaptestServer,
    private readonly opts: RunOptions,
  ) {
    this.source = new MboxSource(mbox);
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.mailbox = server.mailbox ?? "imaptest";
  }

  private fail(msg: string, cmd?: ScriptCommand): void {
    const s = this.script;
    if (!this.initDone) {
      this.failures.push(`${s.name}: initialization failed: ${msg}`);
      return;
    }
    const g = s.groups[this.groupIdx]!;
    const c = cmd ?? g.commands[0];
    const where = c === undefined ? "" : c.line === 0 ? " (added logout)" : ` (line ${c.line})`;
    this.failures.push(
      `${s.name} command ${this.groupIdx + 1}/${s.groups.length}${where}: ${msg}` +
        (c === undefined
          ? ""
          : `\n - command: ${c.text.length > 300 ? `${c.text.slice(0, 300)}...` : c.text}`),
    );
  }

  private result(skipped?: string): ImaptestResult {
    const r: ImaptestResult = { ok: this.failures.length === 0, failures: this.failures };
    if (skipped !== undefined) r.skipped = skipped;
    return r;
  }

  async run(): Promise<ImaptestResult> {
    try {
      const skipped = await this.init();
      if (skipped !== undefined) return this.result(skipped);
      this.initDone = true;
      this.groupIdx = 0;
      if (this.script.bannerCheck) {
        // The first group has no command: its untagged lines describe the greeting.
        const st = newGroupState(this.script.groups[0]!);
        this.checkUntagged(st, this.conns[0]!, this.greeting!);
        await this.finishGroup(st);
        this.groupIdx = 1;
      }
      for (; this.groupIdx < this.script.groups.length; this.groupIdx++) {
        await this.runGroup(this.script.groups[this.groupIdx]!);
      }
    } catch (e) {
      if (!(e instanceof Abort)) throw e;
    } finally {
      await Promise.all(this.conns.map((c) => c.client.close()));
    }
    return this.result();
  }

  private async next(conn: Conn): Promise<ImapResponse> {
    const r = await conn.client.next(this.timeoutMs);
    if (r === "timeout") {
      this.fail(`Timeout: no reply from the server for ${this.timeoutMs} ms on connection ${conn.index + 1}`);
      throw new Abort();
    }
    if (r === "closed") {
      this.fail(`Unexpected disconnection of connection ${conn.index + 1}`);
      throw new Abort();
    }
    return r;
  }

  /** Sends `tag cmdline`, waiting for "+" at each synchronizing literal. Returns false if the server refused a literal. */
  private async send(conn: Conn, tag: string, cmdline: string, sink: Sink): Promise<boolean> {
    const parts = splitLiterals(cmdline);
    let out = `${tag} `;
    for (const part of parts) {
      out += part.head;
      const lit = part.literal;
      if (lit === undefined) break;
      const plus = lit.plus || (conn.literalPlus && this.opts.literalPlus !== false);
      out += `${lit.binary ? "~" : ""}{${lit.size}${plus ? "+" : ""}}\r\n`;
      if (plus) continue;
      conn.client.write(out);
      out = "";
      for (;;) {
        const r = await this.next(conn);
        if (r.kind === "continuation") break;
        sink(r);
        if (r.kind === "tagged" && r.tag === tag) return false;
      }
    }
    conn.client.write(`${out}\r\n`);
    return true;
  }

  /** Runs one command during initialization; a BAD (or a NO unless allowed) fails the test. */
  private async initCommand(
    conn: Conn,
    cmdline: string,
    allowNo = false,
  ): Promise<{ tagged: ImapResponse; untagged: ImapResponse[] }> {
    const tag = conn.nextTag();
    const untagged: ImapResponse[] = [];
    const sink: Sink = (r) => {
      conn.track(r);
      if (r.kind === "untagged") untagged.push(r);
    };
    let tagged: ImapResponse | null = null;
    const ok = await this.send(conn, tag, cmdline, (r) => {
      sink(r);
      if (r.kind === "tagged" && r.tag === tag) tagged = r;
    });
    while (ok && tagged === null) {
      const r = await this.next(conn);
      sink(r);
      if (r.kind === "tagged" && r.tag === tag) tagged = r;
    }
    const t = tagged as ImapResponse | null;
    const status = asciiUpper(atomOf(t?.args[0]) ?? "");
    if (status !== "OK" && !(allowNo && status === "NO")) {
      this.fail(`${cmdline.split("\r\n")[0]} (tag ${tag}) failed: ${t?.text ?? "no reply"}`);
      throw new Abort();
    }
    return { tagged: t!, untagged };
  }

  private appendCommand(mailboxArgs: string, withDate: boolean): string {
    const msg = this.source.take();
    const date = withDate ? ` "${msg.internalDate}"` : "";
    return `APPEND ${mailboxArgs}${date} {${msg.data.length}}\r\n${msg.data}`;
  }

  /** Prepares the connections as far as the script's `state:`; returns a reason if the script is skipped. */
  private async init(): Promise<string | undefined> {
    const s = this.script;
    const srv = this.server;
    if (s.requireUser2 && srv.user2 === undefined) return "needs a second user";
    for (let i = 0; i < s.connections; i++) {
      let client: ImapConnection;
      try {
        client = await ImapConnection.connect({ host: srv.host, port: srv.port, tls: srv.tls });
      } catch (e) {
        this.fail(`connect failed: ${(e as Error).message}`);
        throw new Abort();
      }
      const conn = new Conn(client, i, this.mailbox);
      this.conns.push(conn);
      const greeting = await this.next(conn);
      const word = asciiUpper(atomOf(greeting.args[0]) ?? "");
      if (greeting.kind !== "untagged" || (word !== "OK" && word !== "PREAUTH")) {
        this.fail(`Malformed banner "${greeting.text}"`);
        throw new Abort();
      }
      if (i === 0) this.greeting = greeting;
      conn.track(greeting);
      const user2 = isUser2Ref(s.users[i]);
      const login = user2 ? srv.user2!.user : (s.users[i] ?? srv.user);
      const password = user2 ? srv.user2!.password : srv.password;
      const key = (k: string) => (i === 0 ? k : `${k}${i + 1}`);
      const at = login.indexOf("@");
      this.env.vars.set(key("user"), login);
      this.env.vars.set(key("username"), at < 0 ? login : login.slice(0, at));
      this.env.vars.set(key("domain"), at < 0 ? srv.host : login.slice(at + 1));
      this.env.vars.set(key("password"), password);
      conn.user = login;
      conn.password = password;
    }
    this.env.vars.set("mailbox", this.mailbox);
    this.env.vars.set("mailbox_url", encodeURI(this.mailbox).replace(/;/g, "%3B"));
    const first = this.conns[0]!;
    if (s.state === "nonauth") {
      if (first.caps.length === 0) await this.initCommand(first, "CAPABILITY");
      return hasCapabilities(s, first.caps) ? undefined : "missing capabilities";
    }
    for (const conn of this.conns) {
      const r = await this.initCommand(conn, `LOGIN ${imapQuote(conn.user)} ${imapQuote(conn.password)}`);
      const postLogin = [r.tagged, ...r.untagged].some((x) => capabilitiesOf(x) !== null);
      if (!postLogin) await this.initCommand(conn, "CAPABILITY");
    }
    if (!hasCapabilities(s, first.caps)) return "missing capabilities";

    // Delete every "<mailbox>*" mailbox and subscription, children first.
    const mask = imapQuote(`${this.mailbox}*`);
    const names = (rs: ImapResponse[], kind: string) =>
      rs.flatMap((r) => {
        const a = r.args;
        const ok = equalsIgnoreCase(atomOf(a[0]) ?? "", kind) && a[1]?.type === "list" && a[2] !== undefined;
        const name = ok ? astringOf(a[3]) : null;
        return name === null ? [] : [name];
      });
    const byDesc = (x: string, y: string) =>
      asciiUpper(y) < asciiUpper(x) ? -1 : asciiUpper(y) > asciiUpper(x) ? 1 : 0;
    const boxes = names((await this.initCommand(first, `LIST "" ${mask}`)).untagged, "LIST").sort(byDesc);
    const subs = names((await this.initCommand(first, `LSUB "" ${mask}`)).untagged, "LSUB").sort(byDesc);
    for (const b of boxes) await this.initCommand(first, `DELETE ${imapQuote(b)}`, true);
    for (const b of subs) await this.initCommand(first, `UNSUBSCRIBE ${imapQuote(b)}`, true);
    if (s.state === "auth") return undefined;

    if (!equalsIgnoreCase(this.mailbox, "INBOX"))
      await this.initCommand(first, `CREATE ${imapQuote(this.mailbox)}`);
    if (s.state === "created") return undefined;

    let left = s.messages === "all" ? Number.POSITIVE_INFINITY : s.messages;
    while (left > 0 && !(s.messages === "all" && this.source.atEnd)) {
      left--;
      await this.initCommand(first, this.appendCommand(`"${this.mailbox}"`, true));
    }
    if (s.state === "appended") return undefined;

    for (const conn of this.conns) {
      conn.count = 0;
      await this.initCommand(conn, `SELECT ${imapQuote(this.mailbox)}`);
    }
    return undefined;
  }

  private async runGroup(g: CommandGroup): Promise<void> {
    const conn = this.conns[g.connection];
    if (conn === undefined) {
      this.fail(`No connection ${g.connection + 1}`);
      throw new Abort();
    }
    const st = newGroupState(g);
    this.env.resetSeqmap(conn.count);
    const sink: Sink = (r) => this.dispatch(st, conn, r);
    for (const cmd of g.commands) {
      const exp = expandAll(this.env, cmd.text);
      if (!exp.ok) {
        this.fail(exp.error, cmd);
        throw new Abort();
      }
      const text = exp.text;
      let cmdline: string;
      conn.loggingOut = false;
      if (isAppendText(text)) {
        cmdline = this.appendCommand(`"${conn.storageName}"`, true);
      } else if (/^append /i.test(text) && !appendHasBody(text.slice(7))) {
        cmdline = this.appendCommand(text.slice(7), false);
      } else {
        cmdline = text;
        if (cmd.line === 0 || /^logout$/i.test(text) || g.hasUntaggedBye) conn.loggingOut = true;
        const sel = /^(select|examine) (.*)$/i.exec(text);
        if (sel) {
          const r = parseImapArgs(sel[2]!);
          const name = r.ok ? astringOf(r.args[0]) : null;
          if (name !== null) conn.storageName = name;
          conn.count = 0;
        }
      }
      const tag = conn.nextTag();
      st.firstTag ??= tag;
      st.pending.set(tag, cmd);
      await this.send(conn, tag, cmdline, sink);
    }
    while (st.pending.size > 0) {
      const r = await conn.client.next(this.timeoutMs);
      if (r === "timeout") {
        const c = st.pending.values().next().value;
        this.fail(`Timeout: no tagged reply within ${this.timeoutMs} ms`, c);
        throw new Abort();
      }
      if (r === "closed") {
        if (g.hasUntaggedBye && conn.seenBye) {
          // After BYE only "" may be expected as the tagged reply.
          for (const c of st.pending.values()) {
            if (!(c.reply.length === 1 && atomOf(c.reply[0]) === "")) {
              this.fail(
                `Command expected '${argsToString(c.reply)}' as tagged reply - only "" allowed when BYE happens`,
                c,
              );
            }
          }
          break;
        }
        this.fail(`Unexpected disconnection of connection ${conn.index + 1}`);
        throw new Abort();
      }
      this.dispatch(st, conn, r);
    }
    await this.finishGroup(st);
  }

  private dispatch(st: GroupState, conn: Conn, r: ImapResponse): void {
    if (r.parseError !== undefined) this.fail(`Unparsable response (${r.parseError}): ${r.text}`);
    conn.track(r);
    if (r.kind === "continuation") {
      this.fail(`Unexpected command continuation: ${r.text}`);
      return;
    }
    if (r.kind === "untagged") {
      this.checkUntagged(st, conn, r);
      const a = r.args;
      if (
        atomOf(a[0]) !== null &&
        /^\d+$/.test(atomOf(a[0])!) &&
        equalsIgnoreCase(atomOf(a[1]) ?? "", "EXPUNGE")
      ) {
        this.env.expunge(Number(atomOf(a[0])));
      }
      return;
    }
    const cmd = st.pending.get(r.tag);
    if (cmd === undefined) {
      this.fail(`Unexpected tagged reply: ${r.text}`);
      return;
    }
    st.pending.delete(r.tag);
    if (st.firstTag === r.tag) st.firstTag = null;
    this.env.vars.set("tag", r.tag);
    const n = matchArgs(this.env, cmd.reply, r.args, true);
    this.env.vars.delete("tag");
    const status = asciiUpper(atomOf(r.args[0]) ?? "");
    if (n !== FULL) {
      this.fail(`Expected tagged reply '${argsToString(cmd.reply)}', got '${argsToString(r.args)}'`, cmd);
    } else if (status === "BAD" && !equalsIgnoreCase(atomOf(cmd.reply[0]) ?? "", "bad")) {
      this.fail(`BAD reply for command: ${r.text}`, cmd);
    }
    const verb = asciiUpper(cmd.text.split(" ", 1)[0] ?? "");
    if (
      (status === "OK" && (verb === "CLOSE" || verb === "UNSELECT")) ||
      (status !== "OK" && /^(SELECT|EXAMINE)$/.test(verb))
    ) {
      conn.count = 0;
    }
  }

  private checkUntagged(st: GroupState, conn: Conn, r: ImapResponse): void {
    const f = matchUntagged(this.env, this.script, st, conn.loggingOut, r.args);
    if (f !== null) this.fail(f);
  }

  private async finishGroup(st: GroupState): Promise<void> {
    const g = st.group;
    for (const f of groupFailures(this.env, st)) this.fail(f);
    for (const line of g.output) {
      const e = expandAll(this.env, line);
      this.opts.log?.(e.ok ? e.text : line);
    }
    if (g.sleepMs > 0) await new Promise((res) => setTimeout(res, g.sleepMs));
  }
}

/**
 * Runs a parsed script against a server. `mbox` is the script's message source
 * (its `.mbox` or `default.mbox`). Connections use implicit TLS without
 * certificate checks when `server.tls` is set.
 */
export function runImaptest(
  script: Script,
  mbox: Buffer,
  server: ImaptestServer,
  opts: RunOptions = {},
): Promise<ImaptestResult> {
  return new TestRun(script, mbox, server, opts).run();
}
