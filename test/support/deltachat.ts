/**
 * The real Delta Chat core (deltachat-rpc-server 2.57.0, JSON-RPC over stdio)
 * for end-to-end tests and benchmarks. The binary is spawned straight from the
 * platform package; accounts are configured with explicit server addresses and
 * ports, so the core never needs DNS or autoconfig.
 *
 * Synchronisation is on events only: every account records its events from the
 * moment it is added, and `waitFor` registers before the action it waits for
 * (call it, keep the promise, then act), so no event can be missed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DcEvent, StdioDeltaChat, type T } from "@deltachat/jsonrpc-client";

export type DcMessage = T.Message;
type Kind = DcEvent["kind"];
type EventOf<K extends Kind> = Extract<DcEvent, { kind: K }>;

/** Contact id of the account itself (DC_CONTACT_ID_SELF). */
export const SELF = 1;
const DEFAULT_TIMEOUT = 60_000;
/** Events kept per account for the error message of a timeout. */
const HISTORY = 40;

/** Where and how one account reaches its relay. */
export interface DcServer {
  host: string;
  imapPort: number;
  smtpPort: number;
  /** Default "ssl" (implicit TLS) for both. */
  imapSecurity?: "ssl" | "starttls" | "plain";
  smtpSecurity?: "ssl" | "starttls" | "plain";
}

export function binaryPath(): string {
  return createRequire(import.meta.url).resolve("@deltachat/stdio-rpc-server-linux-x64");
}

interface Waiter {
  kind: Kind;
  test: (e: DcEvent) => boolean;
  resolve: (e: DcEvent) => void;
}

/** One configured account inside a DeltaChat process. */
export class DcAccount {
  readonly history: string[] = [];
  private waiters: Waiter[] = [];

  constructor(
    readonly dc: DeltaChat,
    readonly id: number,
    public addr = "",
  ) {}

  get rpc() {
    return this.dc.rpc;
  }

  /** Called by DeltaChat for each event of this account. */
  onEvent(e: DcEvent): void {
    const line = describe(e);
    if (line) {
      this.history.push(line);
      if (this.history.length > HISTORY) this.history.shift();
    }
    for (const w of [...this.waiters]) {
      if (w.kind === e.kind && w.test(e)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(e);
      }
    }
  }

  /**
   * The next event of `kind` that satisfies `pred`, from now on. Create the
   * promise before the action that causes the event.
   */
  waitFor<K extends Kind>(
    kind: K,
    pred: (e: EventOf<K>) => boolean = () => true,
    timeoutMs = DEFAULT_TIMEOUT,
  ): Promise<EventOf<K>> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        kind,
        test: (e) => pred(e as EventOf<K>),
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as EventOf<K>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(
          new Error(
            `${this.addr}: no ${kind} within ${timeoutMs} ms; recent events:\n  ${this.history.join("\n  ")}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * The next message (incoming, or a self-sent copy from another device) whose
   * loaded form satisfies `pred`. Looks at IncomingMsg and MsgsChanged events.
   */
  async waitForMessage(pred: (m: DcMessage) => boolean, timeoutMs = DEFAULT_TIMEOUT): Promise<DcMessage> {
    const [m] = await this.waitForMessages(pred, 1, timeoutMs);
    return m!;
  }

  /** The next `count` distinct messages that satisfy `pred`, in the order they were loaded. */
  waitForMessages(
    pred: (m: DcMessage) => boolean,
    count: number,
    timeoutMs = DEFAULT_TIMEOUT,
  ): Promise<DcMessage[]> {
    return new Promise((resolve, reject) => {
      const checked = new Set<number>();
      const found: DcMessage[] = [];
      let done = false;
      const check = (msgId: number) => {
        if (done || msgId === 0) return;
        this.rpc.getMessage(this.id, msgId).then(
          (m) => {
            if (done || checked.has(msgId) || !pred(m)) return;
            checked.add(msgId);
            found.push(m);
            if (found.length < count) return;
            done = true;
            cleanup();
            resolve(found);
          },
          () => {},
        );
      };
      const watch = (kind: "IncomingMsg" | "MsgsChanged"): Waiter => ({
        kind,
        test: (e) => {
          check((e as EventOf<typeof kind>).msgId);
          return false;
        },
        resolve() {},
      });
      const watchers = [watch("IncomingMsg"), watch("MsgsChanged")];
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((x) => !watchers.includes(x));
      };
      const timer = setTimeout(() => {
        done = true;
        cleanup();
        reject(
          new Error(
            `${this.addr}: ${found.length}/${count} matching messages within ${timeoutMs} ms; recent events:\n  ${this.history.join("\n  ")}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(...watchers);
    });
  }

  async config(key: string): Promise<string | null> {
    return this.rpc.getConfig(this.id, key);
  }

  /** Sends a text and resolves with the message id (the send itself is asynchronous). */
  send(chatId: number, text: string): Promise<number> {
    return this.rpc.miscSendTextMessage(this.id, chatId, text);
  }
}

/** Human-readable form of the events worth showing when a wait times out. */
function describe(e: DcEvent): string | undefined {
  switch (e.kind) {
    case "Info":
    case "Warning":
    case "Error":
      return `${e.kind}: ${e.msg}`;
    case "IncomingMsg":
    case "MsgsChanged":
    case "MsgDelivered":
    case "MsgFailed":
    case "MsgRead":
      return `${e.kind} chat ${e.chatId} msg ${e.msgId}`;
    case "SecurejoinInviterProgress":
    case "SecurejoinJoinerProgress":
    case "ConfigureProgress":
      return `${e.kind} ${e.progress}`;
    case "ImapInboxIdle":
    case "ImapConnected":
    case "SmtpConnected":
    case "SmtpMessageSent":
    case "ConnectivityChanged":
      return e.kind;
    default:
      return undefined;
  }
}

export interface StartOptions {
  /** Pass the core's log (RUST_LOG) to this process's stderr. */
  stderr?: boolean;
}

/** A deltachat-rpc-server child process with its own accounts folder. */
export class DeltaChat {
  readonly accounts = new Map<number, DcAccount>();
  readonly dir: string;
  private readonly child: ChildProcess;
  private readonly client: StdioDeltaChat;
  private exited: Promise<void>;
  private closing = false;

  private constructor(opts: StartOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "chatrelay-dc-"));
    this.child = spawn(binaryPath(), [], {
      env: {
        PATH: process.env.PATH ?? "",
        DC_ACCOUNTS_PATH: join(this.dir, "accounts"),
        RUST_LOG: process.env.RUST_LOG ?? "info",
      },
      stdio: ["pipe", "pipe", opts.stderr ? "inherit" : "ignore"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    this.child.once("exit", (code, signal) => {
      if (!this.closing) console.error(`deltachat-rpc-server exited unexpectedly (${code ?? signal})`);
    });
    // A request written while the server exits (close() under load: stopIo timed
    // out, SIGTERM) fails with EPIPE on the pipe; the exit handler above reports
    // an unexpected exit, and the request's caller sees no answer.
    this.child.stdin?.on("error", () => {});
    this.client = new StdioDeltaChat(this.child.stdin, this.child.stdout, true);
    this.client.on("ALL", (accountId: number, event: DcEvent) =>
      this.accounts.get(accountId)?.onEvent(event),
    );
  }

  static async start(opts: StartOptions = {}): Promise<DeltaChat> {
    const dc = new DeltaChat(opts);
    await dc.rpc.getSystemInfo();
    return dc;
  }

  get rpc() {
    return this.client.rpc;
  }

  /** A new, unconfigured account whose events are recorded from now on. */
  async addAccount(): Promise<DcAccount> {
    const id = await this.rpc.addAccount();
    const acc = new DcAccount(this, id);
    this.accounts.set(id, acc);
    return acc;
  }

  /**
   * Adds an account and configures it through login (the relay creates the
   * account on first login), then waits until its inbox loop is in IDLE: mail
   * that arrives before the first SELECT would never be fetched.
   */
  async login(server: DcServer, addr: string, password: string, opts: { name?: string; bot?: boolean } = {}) {
    const acc = await this.addAccount();
    acc.addr = addr;
    if (opts.name) await this.rpc.setConfig(acc.id, "displayname", opts.name);
    if (opts.bot) await this.rpc.setConfig(acc.id, "bot", "1");
    const idle = acc.waitFor("ImapInboxIdle");
    await this.rpc.addOrUpdateTransport(acc.id, transportParams(server, addr, password));
    await this.rpc.startIo(acc.id);
    await idle;
    return acc;
  }

  /** Imports a backup file into a new account (a second device) and waits for its IDLE. */
  async importBackup(path: string, addr: string): Promise<DcAccount> {
    const acc = await this.addAccount();
    acc.addr = addr;
    const idle = acc.waitFor("ImapInboxIdle");
    await this.rpc.importBackup(acc.id, path, null);
    await this.rpc.startIo(acc.id);
    await idle;
    return acc;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          this.rpc.stopIoForAllAccounts(),
          new Promise((r) => (timer = setTimeout(r, 2000))),
        ]);
      } catch {
        // the process may already be gone
      } finally {
        clearTimeout(timer);
      }
      this.child.kill("SIGTERM");
      const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function transportParams(server: DcServer, addr: string, password: string): T.EnteredLoginParam {
  return {
    addr,
    password,
    imapServer: server.host,
    imapPort: server.imapPort,
    imapSecurity: server.imapSecurity ?? "ssl",
    imapUser: null,
    imapFolder: null,
    smtpServer: server.host,
    smtpPort: server.smtpPort,
    smtpSecurity: server.smtpSecurity ?? "ssl",
    smtpUser: null,
    smtpPassword: null,
    // self-signed test certificates (RFC 5280 chain checks are off for the test only)
    certificateChecks: "acceptInvalidCertificates",
  };
}

/** A fresh address `<9 chars [a-z0-9]>@domain`, as created on first login. */
export function randomAddress(domain: string): string {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let local = "";
  for (let i = 0; i < 9; i++) local += chars[Math.floor(Math.random() * chars.length)];
  return `${local}@${domain}`;
}

/**
 * SecureJoin with a v3 QR code: `inviter` shows the code, `joiner` scans it.
 * Resolves when both sides reached progress 1000; returns both 1:1 chat ids and contact ids.
 */
export async function secureJoin(inviter: DcAccount, joiner: DcAccount, timeoutMs = 60_000) {
  const qr = await inviter.rpc.getChatSecurejoinQrCode(inviter.id, null);
  const inviterDone = inviter.waitFor("SecurejoinInviterProgress", (e) => e.progress === 1000, timeoutMs);
  const joinerDone = joiner.waitFor("SecurejoinJoinerProgress", (e) => e.progress === 1000, timeoutMs);
  const joinerChat = await joiner.rpc.secureJoin(joiner.id, qr);
  const [inv, join] = await Promise.all([inviterDone, joinerDone]);
  const inviterChat = inv.chatId || (await inviter.rpc.createChatByContactId(inviter.id, inv.contactId));
  /** `joinerContact` is the joiner as the inviter knows it, `inviterContact` the other way round. */
  return { qr, inviterChat, joinerChat, joinerContact: inv.contactId, inviterContact: join.contactId };
}

/**
 * Sends `text` from `from` in `chatId` and resolves with the message as
 * `to` received it, together with the time it took.
 */
export async function sendAndReceive(from: DcAccount, chatId: number, to: DcAccount, text: string) {
  const t0 = performance.now();
  const got = to.waitForMessage((m) => m.text === text && m.fromId !== SELF);
  await from.send(chatId, text);
  const msg = await got;
  return { msg, ms: performance.now() - t0 };
}
