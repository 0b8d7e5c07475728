/**
 * Parser for imaptest scripted tests (the format of imaptest's src/tests/, see
 * its docs/scripted_test.md): a `key: value` header, an empty line, then
 * command groups. Each group runs on one connection; its commands may be
 * pipelined (`tagN`), carry their expected tagged reply inline (`ok cmd`) or on
 * a later line (`ok [prefix]`), and list expected untagged replies (`*` must
 * arrive, `!` must not, `?` may).
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { atomOf, type ImapArg } from "./args.ts";
import { parseArgsOrThrow, parseExpectedUntagged, ScriptSyntaxError } from "./directives.ts";

export { parseExpectedUntagged, ScriptSyntaxError };

export type StartupState = "nonauth" | "auth" | "created" | "appended" | "selected";
export type Existence = "must" | "mustnot" | "may";

export interface ScriptCommand {
  /** 1-based line in the file; 0 for the LOGOUT the parser adds. */
  line: number;
  /** Script tag number (`tag1` → 1), 0 when not pipelined. */
  tag: number;
  /** Unexpanded command text; `{{{ }}}` blocks are already `{n}\r\n<data>` literals. */
  text: string;
  /** Expected tagged reply pattern (`ok`, `no [trycreate]`, `""` = anything). */
  reply: ImapArg[];
}

export interface ExpectedUntagged {
  line: number;
  existence: Existence;
  args: ImapArg[];
}

export interface CommandGroup {
  /** 0-based connection index. */
  connection: number;
  commands: ScriptCommand[];
  /** null when the group lists no untagged replies at all. */
  untagged: ExpectedUntagged[] | null;
  ordered: boolean;
  sleepMs: number;
  output: string[];
  hasUntaggedBye: boolean;
}

export interface Script {
  name: string;
  /** Required capabilities, null when the header has none (a base-protocol test). */
  capabilities: string[] | null;
  connections: number;
  ignoreExtraUntagged: boolean;
  /** `user N:` overrides by 0-based connection index. */
  users: (string | undefined)[];
  requireUser2: boolean;
  /** Messages appended from the mbox before the test: a count or "all". */
  messages: number | "all";
  state: StartupState;
  /** The first group checks the server greeting. */
  bannerCheck: boolean;
  groups: CommandGroup[];
}

export type ScriptResult = { ok: true; script: Script } | { ok: false; error: string };

const MAX_CONNECTIONS = 100;

/** `user N: $user2` asks for the runner's second account. */
export function isUser2Ref(value: string | undefined): boolean {
  return value !== undefined && /^\$(user2|\{user2\})$/.test(value);
}

interface PendingGroup extends CommandGroup {
  pending: number;
  replied: Set<ScriptCommand>;
}

function leadingUint(s: string): number {
  const m = /^\s*(\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function strictUint(s: string): number | null {
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : null;
}

/** test_get_cmd_reply(): optional `tagN`, then an optional ok/no/bad/"" reply word. */
function takeReply(line: string): { tag: number; reply: ImapArg[] | null; rest: string } {
  let tag = 0;
  let rest = line;
  let word = rest.split(" ", 1)[0]!;
  if (word.slice(0, 3).toLowerCase() === "tag") {
    const n = strictUint(word.slice(3));
    const sp = rest.indexOf(" ");
    if (sp >= 0 && n !== null && n > 0) {
      tag = n;
      rest = rest.slice(sp + 1);
      word = rest.split(" ", 1)[0]!;
    }
  }
  const lw = word.toLowerCase();
  let reply: ImapArg[] | null = null;
  if (lw === "ok" || lw === "no" || lw === "bad") {
    reply = [{ type: "atom", value: lw }];
    rest = rest.slice(lw.length);
  } else if (word === '""') {
    reply = [{ type: "atom", value: "" }];
    rest = rest.slice(2);
  }
  if (reply !== null && rest.startsWith(" ")) rest = rest.slice(1);
  return { tag, reply, rest };
}

function untaggedExistence(line: string): Existence | null {
  if (line.startsWith("* ")) return "must";
  if (line.startsWith("! ")) return "mustnot";
  if (line.startsWith("? ")) return "may";
  return null;
}

function parseDurationMs(s: string): number {
  const m = /^\s*(\d+)\s*(ms|msecs?|s|secs?|m|mins?|h|hours?)?\s*$/i.exec(s);
  if (!m) throw new ScriptSyntaxError(`Invalid !sleep value ${s}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? "ms").toLowerCase();
  if (unit.startsWith("ms")) return n;
  if (unit.startsWith("s")) return n * 1000;
  if (unit.startsWith("m")) return n * 60_000;
  return n * 3_600_000;
}

class Parser {
  readonly script: Script;
  private group: PendingGroup | null = null;
  private skip = false;
  private readonly ifenv: { line: number; elseSeen: boolean; skip: boolean }[] = [];

  constructor(
    name: string,
    private readonly env: Record<string, string | undefined>,
  ) {
    this.script = {
      name,
      capabilities: null,
      connections: 1,
      ignoreExtraUntagged: true,
      users: [],
      requireUser2: false,
      messages: 0,
      state: "selected",
      bannerCheck: false,
      groups: [],
    };
  }

  header(line: string): void {
    const colon = line.indexOf(":");
    if (colon < 0) throw new ScriptSyntaxError("Missing ':'");
    const key = line.slice(0, colon).replace(/ +$/, "").toLowerCase();
    const value = line.slice(colon + 1).replace(/^ +/, "");
    const s = this.script;
    if (key === "capabilities") {
      s.capabilities = value.split(" ").filter((x) => x !== "");
    } else if (key === "connections") {
      s.connections = leadingUint(value);
      if (s.connections === 0 || s.connections > MAX_CONNECTIONS)
        throw new ScriptSyntaxError("Too many connections");
    } else if (key === "ignore_extra_untagged") {
      s.ignoreExtraUntagged = value[0] === "y";
    } else if (key.startsWith("user ") && (strictUint(key.slice(5)) ?? 0) > 0) {
      const idx = strictUint(key.slice(5))!;
      if (idx > MAX_CONNECTIONS) throw new ScriptSyntaxError("Too many connections");
      if (isUser2Ref(value)) s.requireUser2 = true;
      s.users[idx - 1] = value;
    } else if (key === "messages") {
      s.messages = value === "all" ? "all" : leadingUint(value);
    } else if (key === "state") {
      const v = value.toLowerCase();
      if (v !== "nonauth" && v !== "auth" && v !== "created" && v !== "appended" && v !== "selected") {
        throw new ScriptSyntaxError("Unknown state value");
      }
      s.state = v;
    } else {
      throw new ScriptSyntaxError("Unknown setting");
    }
  }

  private preprocess(line: string, lineNo: number): boolean {
    const m = /^!(ifenv|ifnenv) (.*)$/.exec(line);
    if (m) {
      const set = this.env[m[2]!] !== undefined;
      this.ifenv.push({ line: lineNo, elseSeen: false, skip: this.skip });
      if ((m[1] === "ifenv" && !set) || (m[1] === "ifnenv" && set)) this.skip = true;
      return true;
    }
    if (line === "!else") {
      const top = this.ifenv[this.ifenv.length - 1];
      if (top === undefined) throw new ScriptSyntaxError("!else without !ifenv");
      if (top.elseSeen) throw new ScriptSyntaxError("!else already seen");
      top.elseSeen = true;
      if (!top.skip) this.skip = !this.skip;
      return true;
    }
    if (line === "!endif") {
      const top = this.ifenv.pop();
      if (top === undefined) throw new ScriptSyntaxError("!endif without !ifenv");
      this.skip = top.skip;
      return true;
    }
    return this.skip;
  }

  private addUntagged(group: PendingGroup, text: string, existence: Existence, lineNo: number): void {
    const args = parseExpectedUntagged(text);
    const name = atomOf(args[0]) ?? "";
    const replyName = name.startsWith("$") || /^[0-9]/.test(name) ? (atomOf(args[1]) ?? "") : name;
    if (replyName.slice(0, 3).toUpperCase() === "BYE") {
      if (existence === "must") group.hasUntaggedBye = true;
      if (existence === "may") throw new ScriptSyntaxError("? BYE not currently supported");
    }
    group.untagged ??= [];
    group.untagged.push({ line: lineNo, existence, args });
  }

  command(line: string, lineNo: number): void {
    if (this.preprocess(line, lineNo)) return;
    const s = this.script;
    let group = this.group;
    if (group !== null) {
      if (line.startsWith("!sleep ")) {
        group.sleepMs = parseDurationMs(line.slice(7));
        return;
      }
      if (line.startsWith("!output ")) {
        group.output.push(line.slice(8));
        return;
      }
      if (line === "!ordered") {
        group.ordered = true;
        return;
      }
      const existence = untaggedExistence(line);
      if (existence !== null) {
        this.addUntagged(group, line.slice(2), existence, lineNo);
        return;
      }
      if (group.pending > 0 && this.tryTaggedReply(group, line)) return;
    }
    if (group === null || group.pending === 0) {
      group = {
        connection: 0,
        commands: [],
        untagged: null,
        ordered: false,
        sleepMs: 0,
        output: [],
        hasUntaggedBye: false,
        pending: 0,
        replied: new Set(),
      };
      this.group = group;
      s.groups.push(group);
    }
    let rest = line;
    if (s.connections > 1) {
      const sp = rest.indexOf(" ");
      const idx = strictUint(sp < 0 ? rest : rest.slice(0, sp));
      if (idx === null || idx === 0) throw new ScriptSyntaxError("Missing client index");
      if (idx > MAX_CONNECTIONS) throw new ScriptSyntaxError("Too many connections");
      if (group.commands.length > 0 && group.connection !== idx - 1) {
        throw new ScriptSyntaxError("All pipelined commands must use the same connection");
      }
      group.connection = idx - 1;
      if (s.connections < idx) s.connections = idx;
      rest = sp < 0 ? "" : rest.slice(sp + 1);
    }
    const { tag, reply, rest: text } = takeReply(rest);
    if (tag === 0) {
      if (group.pending > 0) throw new ScriptSyntaxError("Missing reply from previous command group");
    } else if (group.commands.some((c) => c.tag === tag)) {
      throw new ScriptSyntaxError("Tag reused within command group");
    }
    const existence = untaggedExistence(text);
    if (group.commands.length === 0 && existence !== null) {
      s.bannerCheck = true;
      this.addUntagged(group, text.slice(2), existence, lineNo);
      return;
    }
    const cmd: ScriptCommand = { line: lineNo, tag, text, reply: reply ?? [] };
    if (reply === null) group.pending++;
    else group.replied.add(cmd);
    group.commands.push(cmd);
  }

  /** A `[conn] [tagN] ok|no|bad|"" [prefix]` line that completes a pending command. */
  private tryTaggedReply(group: PendingGroup, line: string): boolean {
    let noConn = line;
    let connIdx = 0;
    if (this.script.connections > 1) {
      const sp = line.indexOf(" ");
      const n = strictUint(sp < 0 ? line : line.slice(0, sp));
      if (n !== null && n > 0) {
        connIdx = n;
        noConn = sp < 0 ? "" : line.slice(sp + 1);
      }
    }
    const { tag, reply } = takeReply(noConn);
    if (reply === null) return false;
    if (this.script.connections > 1) {
      if (connIdx === 0) throw new ScriptSyntaxError("Missing client index");
      if (connIdx - 1 !== group.connection) throw new ScriptSyntaxError("Reply for wrong connection");
    }
    const cmd = group.commands.find((c) => c.tag === tag);
    if (cmd === undefined) throw new ScriptSyntaxError("Reply for unknown tag");
    if (group.replied.has(cmd)) throw new ScriptSyntaxError("Command already has a reply");
    const args = parseArgsOrThrow(noConn);
    cmd.reply = args.slice(tag === 0 ? 0 : 1);
    group.replied.add(cmd);
    group.pending--;
    return true;
  }

  finish(): void {
    const s = this.script;
    if (this.group === null) throw new ScriptSyntaxError("No commands in file");
    if (this.group.pending > 0) {
      const cmd = this.group.commands.find((c) => !this.group!.replied.has(c));
      throw new ScriptSyntaxError(`Missing reply from previous command at line ${cmd?.line}`);
    }
    if (this.ifenv.length > 0)
      throw new ScriptSyntaxError(`!ifenv at line ${this.ifenv[0]!.line} not closed with !endif`);
    // Add LOGOUT on the first connection unless the script logs out itself.
    const hasLogout = s.groups.some(
      (g) => g.hasUntaggedBye || g.commands.some((c) => c.text.toLowerCase() === "logout"),
    );
    if (!hasLogout) {
      s.groups.push({
        connection: 0,
        commands: [{ line: 0, tag: 0, text: "logout", reply: [{ type: "atom", value: "ok" }] }],
        untagged: null,
        ordered: false,
        sleepMs: 0,
        output: [],
        hasUntaggedBye: false,
      });
    }
    s.groups = s.groups.map(
      ({ connection, commands, untagged, ordered, sleepMs, output, hasUntaggedBye }) => ({
        connection,
        commands,
        untagged,
        ordered,
        sleepMs,
        output,
        hasUntaggedBye,
      }),
    );
  }
}

/**
 * Parses a script. `text` is read as latin1 so that 8-bit octets survive
 * unchanged. `env` drives `!ifenv`/`!ifnenv` (default: no variables set).
 */
export function parseScript(
  name: string,
  text: Buffer | string,
  env: Record<string, string | undefined> = {},
): ScriptResult {
  const src = typeof text === "string" ? text : text.toString("latin1");
  const p = new Parser(name, env);
  const lines = src.split("\n");
  if (lines[lines.length - 1] !== "") return { ok: false, error: `${name}: Last line doesn't end with LF` };
  lines.pop();
  let header = true;
  let continues = false;
  let binary = false;
  let multiline = "";
  let startPos = 0;
  let lastLineEnd = 0;
  let startLine = 0;
  let lineNo = 0;
  try {
    for (let line of lines) {
      lineNo++;
      if (continues) {
        if (!line.startsWith("}}}")) {
          multiline += line;
          lastLineEnd = multiline.length;
          multiline += binary ? "\n" : "\r\n";
          continue;
        }
        // End of a {{{ block: insert the literal size in front of its data.
        multiline = multiline.slice(0, lastLineEnd);
        line = line.slice(3);
        const size = multiline.length - startPos;
        multiline = `${multiline.slice(0, startPos)}${binary ? "~" : ""}{${size}}\r\n${multiline.slice(startPos)}`;
        if (line.endsWith("{{{")) {
          binary = line.length > 3 && line[line.length - 4] === "~";
          multiline += line.slice(0, line.length - 3 - (binary ? 1 : 0));
          startPos = multiline.length;
          lastLineEnd = multiline.length;
          continue;
        }
        line = multiline + line;
        continues = false;
      } else {
        startLine = lineNo;
        if (line === "") {
          header = false;
          continue;
        }
        if (line.startsWith("#")) continue;
        if (line.endsWith("{{{")) {
          binary = line.length > 3 && line[line.length - 4] === "~";
          multiline = line.slice(0, line.length - 3 - (binary ? 1 : 0));
          startPos = multiline.length;
          lastLineEnd = multiline.length;
          continues = true;
          continue;
        }
      }
      if (header) p.header(line);
      else p.command(line, startLine);
    }
    if (continues) throw new ScriptSyntaxError(`Multiline reply at line ${startLine} not ended`);
    p.finish();
  } catch (e) {
    if (e instanceof ScriptSyntaxError) return { ok: false, error: `${name} line ${lineNo}: ${e.message}` };
    throw e;
  }
  return { ok: true, script: p.script };
}

export interface ScriptFile {
  path: string;
  script: Script;
  /** `<name>.mbox` next to the script, else `default.mbox` of its directory. */
  mbox: Buffer;
}

/** Reads and parses a script file with its mbox. Throws on I/O or syntax errors. */
export function loadScript(path: string, env: Record<string, string | undefined> = {}): ScriptFile {
  const r = parseScript(basename(path), readFileSync(path), env);
  if (!r.ok) throw new Error(r.error);
  const own = `${path}.mbox`;
  const mbox = readFileSync(existsSync(own) ? own : join(dirname(path), "default.mbox"));
  return { path, script: r.script, mbox };
}
