/**
 * One IMAP connection: the state machine of RFC 3501 §3 (not authenticated →
 * authenticated → selected → logout), a strictly sequential command queue fed by
 * the pull framer, output backpressure, timeouts, and (through Selection) the bus
 * listener that turns other sessions' changes into untagged responses at the
 * points RFC 3501 §7.4.1 allows.
 */
import type { Socket } from "node:net";
import type { MailboxEvent } from "../events/bus.ts";
import type { BodyReservation } from "../net/body-budget.ts";
import { StoreError } from "../store/types.ts";
import { capabilityText } from "./capabilities.ts";
import { COMMANDS } from "./commands/index.ts";
import type { AnyCommandSpec, Result, SessionState } from "./commands/types.ts";
import type { ServerContext, SessionLike } from "./context.ts";
import type { MailboxView } from "./mailbox-view.ts";
import { Selection } from "./selection.ts";
import { Transport, type TransportEvents } from "./transport.ts";
import { parseCommand } from "./wire/command.ts";
import { type CommandLimits, Framer, type FramerOptions } from "./wire/framer.ts";
import type { Command } from "./wire/types.ts";

/** Stop reading commands while this much output waits for a slow client. */
const OUT_HIGH = 256 * 1024;
/** Stop reading while this much unprocessed input is buffered behind a running command. */
const IN_HIGH = 256 * 1024;
/** A client that lets this much unsolicited output pile up is not reading: disconnect. */
const OUT_UNSOLICITED_MAX = 4 * 1024 * 1024;
/** Commands accepted before login. */
const MAX_PRELOGIN_COMMANDS = 100;
/** Literal and command size before login. */
const PRELOGIN_LIMITS = { literal: 4096, command: 16 * 1024 };
/** Before login a connection lives at most this many pre-login timeouts, however many commands it sends. */
const PRELOGIN_LIFETIMES = 3;
/** Oversize non-synchronizing literals up to this size are read and dropped; larger ones close. */
const MAX_DISCARD = 64 * 1024 * 1024;

export class Session implements SessionLike, FramerOptions, TransportEvents {
  state: SessionState | "logout" = "notauth";
  /** Logged-in address ("" before login). */
  user = "";
  idling = false;
  /** When `tick` acts next (timeout or keep-alive), ms. */
  deadline: number;
  readonly transport: Transport;
  private readonly framer: Framer;
  private busy = false;
  private pumping = false;
  private paused = false;
  private commands = 0;
  /** When a connection that has not logged in is closed, ms. */
  private readonly loginBy: number;
  /** When the running command started, ms (0: none running). */
  private commandStart = 0;
  /** Literal bytes of the command being read, held in the relay-wide body budget. */
  private literals: BodyReservation | null = null;
  private lineWaiter: ((line: Buffer | null) => void) | null = null;
  private drainWaiters: Array<() => void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private userIpKey: string | null = null;
  private readonly selection = new Selection(this);

  constructor(
    readonly ctx: ServerContext,
    socket: Socket,
    /** The listener offers STARTTLS (plaintext port). */
    readonly starttls: boolean,
  ) {
    const limits = ctx.limits;
    const now = Date.now();
    this.loginBy = now + (limits.preLoginLifetime ?? PRELOGIN_LIFETIMES * limits.preLoginTimeout);
    this.deadline = now + limits.preLoginTimeout;
    // The session is the framer's options and the transport's listener itself:
    // methods on the prototype rather than closures held by every idle session.
    this.framer = new Framer(this);
    this.transport = new Transport(socket, this);
    ctx.sessions.add(this);
  }

  // --- the framer's limits (FramerOptions) ---

  get maxLine(): number {
    return this.ctx.limits.maxLine;
  }

  get maxDiscard(): number {
    return MAX_DISCARD;
  }

  limits(name: string): CommandLimits {
    const limits = this.ctx.limits;
    // Before login only LOGIN/AUTHENTICATE need literals, and small ones.
    if (this.state === "notauth") return PRELOGIN_LIMITS;
    if (name === "APPEND") {
      const m = this.ctx.config.max_message_size;
      return { literal: m, command: m + limits.maxLine * 4 };
    }
    return { literal: limits.maxLiteral, command: limits.maxLiteral * 4 + limits.maxLine * 4 };
  }

  admit(size: number): boolean {
    this.literals ??= this.ctx.bodies.open(this.transport.remoteAddress);
    return this.literals.add(size);
  }

  /** The selected mailbox as the client knows it; null outside the selected state. */
  get view(): MailboxView | null {
    return this.selection.view;
  }

  get closed(): boolean {
    return this.transport.isClosed;
  }

  /** Capabilities for this connection's current state. */
  capabilities(): string {
    return capabilityText({
      tls: this.transport.tls,
      starttls: this.starttls,
      authenticated: this.state !== "notauth",
      compressEnabled: this.ctx.config.imap_compress,
      compressed: this.transport.compressed,
    });
  }

  greet(): void {
    this.write(`* OK [CAPABILITY ${this.capabilities()}] ${this.ctx.config.mail_domain} chatrelay ready\r\n`);
  }

  // --- output ---

  write(data: string | Buffer): void {
    this.transport.write(data);
  }

  /** Several pieces of one response, handed to the socket together. */
  writev(chunks: Buffer[]): void {
    this.transport.writev(chunks);
  }

  /** Output nobody asked for (IDLE updates, keep-alives): a client that does not read is dropped. */
  writeUnsolicited(data: string): void {
    if (this.transport.backlog > OUT_UNSOLICITED_MAX) {
      this.ctx.log.debug("imap: client does not read, closing");
      this.transport.destroy();
      return;
    }
    this.write(data);
  }

  /** Resolves once the output backlog is small again (call between large responses). */
  drain(): Promise<void> {
    if (this.transport.backlog <= OUT_HIGH || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      (this.drainWaiters ??= []).push(resolve);
    });
  }

  transportDrained(): void {
    // A client that reads is alive, however long its download takes.
    this.touch();
    if (this.transport.backlog <= OUT_HIGH) {
      const waiters = this.drainWaiters;
      this.drainWaiters = null;
      if (waiters) for (const w of waiters) w();
    }
    this.flowControl();
    this.pump();
  }

  // --- input ---

  transportData(chunk: Buffer): void {
    this.framer.push(chunk);
    this.pump();
  }

  /** Reads one raw line (AUTHENTICATE responses, IDLE's DONE); null if the connection ends. */
  readLine(): Promise<Buffer | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.framer.mode = "line";
      this.lineWaiter = (line) => {
        this.framer.mode = "command";
        resolve(line);
      };
      queueMicrotask(() => this.pump());
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.state !== "logout") {
        if (this.busy && !this.lineWaiter) break;
        const f = this.framer.next();
        if (!f) break;
        switch (f.kind) {
          case "line": {
            const w = this.lineWaiter;
            this.lineWaiter = null;
            w?.(f.data);
            break;
          }
          case "continue":
            this.write("+ Ready for literal data\r\n");
            break;
          case "reject":
            this.releaseLiterals();
            this.write(`${f.tag ?? "*"} ${rejection(f)} ${f.message}\r\n`);
            break;
          case "fatal":
            this.shutdown(f.message);
            return;
          case "command":
            this.busy = true;
            void this.execute(f.data);
            break;
        }
      }
    } finally {
      this.pumping = false;
    }
    this.flowControl();
  }

  private flowControl(): void {
    if (this.closed) return;
    const stalled = this.busy && !this.lineWaiter && this.framer.buffered > IN_HIGH;
    const pause = this.transport.backlog > OUT_HIGH || stalled;
    if (pause && !this.paused) {
      this.paused = true;
      this.transport.pause();
    } else if (!pause && this.paused) {
      this.paused = false;
      this.transport.resume();
    }
  }

  // --- commands ---

  private async execute(data: Buffer): Promise<void> {
    try {
      this.commands++;
      this.commandStart = Date.now();
      if (this.state === "notauth" && this.commands > MAX_PRELOGIN_COMMANDS) {
        this.shutdown("Too many commands before login");
        return;
      }
      const parsed = parseCommand(data);
      if (!parsed.ok) {
        this.write(`${parsed.tag ?? "*"} BAD ${parsed.error}\r\n`);
        return;
      }
      await this.dispatch(parsed.tag, parsed.command);
    } catch (err) {
      this.ctx.log.error({ err }, "imap: command failed");
      this.shutdown("Internal error");
    } finally {
      this.busy = false;
      this.commandStart = 0;
      this.releaseLiterals();
      this.touch();
      if (!this.closed) this.pump();
    }
  }

  private async dispatch(tag: string, cmd: Command): Promise<void> {
    const spec = COMMANDS[cmd.name] as unknown as AnyCommandSpec;
    if (this.state === "logout") return;
    if (!spec.states.includes(this.state)) {
      this.write(`${tag} BAD ${stateError(spec.states)}\r\n`);
      return;
    }
    if (this.view) {
      if (!(await this.selection.revalidate())) return;
      // Not before IDLE's "+": clients treat untagged data before it as not
      // waking the IDLE (async-imap); setIdle reports it right after "+ idling".
      if (cmd.name !== "IDLE") this.write(this.view.flushExists());
    }
    let result: Result;
    try {
      result = await spec.run(this, cmd, tag);
    } catch (err) {
      result = this.errorResult(err);
    }
    if (this.closed) return;
    if (this.view) {
      const updates = this.view.flush(spec.expunge ? spec.expunge(cmd) : true);
      if (updates) this.write(updates);
    }
    // The text may quote the client's bytes; a response line is printable US-ASCII (RFC 3501 §9 TEXT-CHAR).
    const text = result.text.replace(/[^\x20-\x7e]/g, "?");
    this.write(`${tag} ${result.status}${result.code ? ` [${result.code}]` : ""} ${text}\r\n`);
    if (result.after) await result.after();
  }

  private errorResult(err: unknown): Result {
    if (err instanceof StoreError) {
      // RFC 5530 §3: a full disk is a temporary failure of the server, not the user's quota
      const code = err.code === "FULL" ? "UNAVAILABLE" : err.code;
      return { status: "NO", code, text: err.message };
    }
    this.ctx.log.error({ err }, "imap: command error");
    return { status: "NO", code: "SERVERBUG", text: "Internal error" };
  }

  // --- state changes used by command handlers ---

  login(address: string): void {
    this.user = address;
    this.state = "auth";
    this.unsubscribe = this.ctx.bus.subscribe(address, this.selection.onEvent);
    this.userIpKey = `${address}\0${this.transport.remoteAddress}`;
    this.ctx.userIp.set(this.userIpKey, (this.ctx.userIp.get(this.userIpKey) ?? 0) + 1);
  }

  /** Open logged-in sessions of `address` from this session's IP. */
  userIpCount(address: string): number {
    return this.ctx.userIp.get(`${address}\0${this.transport.remoteAddress}`) ?? 0;
  }

  /** Starts a SELECT: from now until `endSelect`, events are kept for the new view. */
  beginSelect(): void {
    this.state = "auth";
    this.selection.begin();
  }

  endSelect(view: MailboxView | null): void {
    this.selection.end(view);
    if (view) this.state = "selected";
  }

  deselect(): void {
    this.selection.view = null;
    this.state = "auth";
  }

  /** Publishes a change this session committed (after the commit). */
  publish(event: MailboxEvent): void {
    this.ctx.bus.publish({ ...event, origin: this } as MailboxEvent);
  }

  /** IDLE started or ended. */
  setIdle(on: boolean): void {
    this.idling = on;
    if (on && this.view) {
      const updates = this.view.flush(true);
      if (updates) this.write(updates);
    }
    this.touch();
  }

  // --- timers and closing ---

  private touch(): void {
    const now = Date.now();
    if (this.idling) this.deadline = now + this.ctx.config.imap_idle_keepalive * 1000;
    else if (this.state === "notauth")
      this.deadline = Math.min(now + this.ctx.limits.preLoginTimeout, this.loginBy);
    else this.deadline = now + this.ctx.limits.autologout;
  }

  tick(now: number): void {
    if (now < this.deadline || this.closed) return;
    if (this.idling) {
      this.writeUnsolicited("* OK Still here\r\n");
      this.touch();
      return;
    }
    if (this.state === "notauth" && now >= this.loginBy) {
      this.shutdown("Login took too long");
      return;
    }
    if (
      this.busy &&
      !this.lineWaiter &&
      this.transport.backlog === 0 &&
      now - this.commandStart < this.ctx.limits.commandTimeout
    ) {
      // A command that waits on the store: give it time, within commandTimeout.
      this.touch();
      return;
    }
    this.shutdown("Autologout; idle for too long");
  }

  shutdown(text: string): void {
    if (this.closed) return;
    this.write(`* BYE ${text}\r\n`);
    this.close();
  }

  /** Ends the connection after the queued output. */
  close(): void {
    this.state = "logout";
    this.transport.end();
  }

  private releaseLiterals(): void {
    this.literals?.release();
    this.literals = null;
  }

  transportClosed(): void {
    this.state = "logout";
    this.releaseLiterals();
    this.ctx.sessions.delete(this);
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.userIpKey) {
      const n = (this.ctx.userIp.get(this.userIpKey) ?? 1) - 1;
      if (n <= 0) this.ctx.userIp.delete(this.userIpKey);
      else this.ctx.userIp.set(this.userIpKey, n);
      this.userIpKey = null;
    }
    const w = this.lineWaiter;
    this.lineWaiter = null;
    w?.(null);
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters) for (const f of waiters) f();
    this.selection.view = null;
  }

  /** Bytes buffered after the current command (COMPRESS hands them to the inflater). */
  takeBufferedInput(): Buffer[] {
    return this.framer.drainRaw();
  }

  /** After STARTTLS: nothing sent in plaintext may be read as part of the TLS session. */
  discardBufferedInput(): void {
    this.framer.reset();
  }
}

/** RFC 5530 §3: TOOBIG for an APPEND over the size limit, UNAVAILABLE while the memory budget is spent. */
function rejection(f: { tooBig: boolean; command: string; busy?: boolean }): string {
  if (f.busy) return "NO [UNAVAILABLE]";
  if (f.tooBig && f.command === "APPEND") return "NO [TOOBIG]";
  return "BAD";
}

function stateError(allowed: readonly SessionState[]): string {
  if (allowed.includes("notauth")) return "Already logged in";
  if (allowed.includes("auth")) return "Please log in first";
  return "No mailbox selected";
}
