/**
 * chatrelay's IMAP server (RFC 3501 IMAP4rev1 plus the extensions Delta Chat and
 * ordinary clients use; see capabilities.ts).
 *
 * Implementation notes: the invariants every command keeps.
 *
 * 1. Commit first, then publish. A command that changes a mailbox (APPEND,
 *    STORE, EXPUNGE, CLOSE, COPY, MOVE, FETCH setting \Seen, CREATE, DELETE,
 *    RENAME) awaits the store's durable write and only then publishes the change
 *    on the event bus (session.publish, origin = the session). The tagged OK is
 *    written after that, so an OK always means "on disk and announced".
 *    Deliveries do the same: store.deliver, then bus.publish({kind: "exists"}).
 *
 * 2. Never block on a slow client. The bus calls listeners synchronously inside
 *    publish(), so a listener only records the change in the session's
 *    MailboxView and, while the session is in IDLE, writes the untagged lines at
 *    once; it never awaits. A client that lets unsolicited output pile up past a
 *    bound is disconnected. Command output is written message by message and
 *    the command waits for the socket to drain when the backlog is high, while
 *    reading further commands pauses; so a client that does not read costs a
 *    bounded amount of memory.
 *
 * 3. Revalidate the selected mailbox. Another session may delete or rename it.
 *    Every mailbox-list change is published as a "mailboxes" event; the view
 *    then re-reads the mailbox before the next command and, if it is gone (or
 *    its UIDVALIDITY changed), the session says BYE rather than serving stale
 *    sequence numbers.
 *
 * 4. When EXPUNGE and EXISTS may be sent (RFC 3501 §7.4.1, §5.2, §5.5). The
 *    client's message sequence numbers only change when we say so: an expunge
 *    by anyone marks the UID in the view, and the "* n EXPUNGE" is written only
 *    at the end of a command that is not FETCH, STORE, SEARCH or COPY by
 *    sequence number (those are the ambiguous ones), during IDLE, and for the
 *    session's own EXPUNGE/MOVE. EXISTS is written at the start and end of
 *    every command and at once during IDLE; FETCH (FLAGS) for other sessions'
 *    flag changes likewise (with UID). UIDs reach the view in increasing order;
 *    a UID that shows up below announced ones and exists makes the session
 *    disconnect (the client reconnects and resynchronises) instead of
 *    numbering messages wrongly. \Recent goes to the first read-write session
 *    that announces a message (an in-memory per-mailbox floor, see MailboxView).
 *
 * 5. Totality. The framer and parser turn every byte sequence into a command or
 *    a typed rejection (BAD/NO, or BYE when the stream cannot be kept in step).
 *    A handler's exception becomes a tagged NO; nothing reaches the socket
 *    handlers uncaught.
 *
 * 6. Small sessions. A session holds its socket, a framer with lazily grown
 *    buffers, a view of UIDs, and one bus subscription; timeouts and IDLE
 *    keep-alives are driven by one server-wide sweep, not per-session timers.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Accounts } from "../accounts/types.ts";
import type { Config } from "../config/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { BodyBudget } from "../net/body-budget.ts";
import { ConnectionLimiter, limitConnections } from "../net/connection-limit.ts";
import type { Store } from "../store/types.ts";
import { CLIENT_TLS_OPTIONS } from "../tls/policy.ts";
import { DEFAULT_LIMITS, type ServerContext, type SessionLimits } from "./context.ts";
import { Session } from "./session.ts";

export interface ImapDeps {
  config: Config;
  store: Store;
  accounts: Accounts;
  bus: EventBus;
  log: Logger;
  tls: { key: string; cert: string };
  /** The relay-wide budget for message bodies in memory. */
  bodies?: BodyBudget;
  /** Overrides of session limits (tests). */
  limits?: Partial<SessionLimits>;
  metrics?: Metrics;
}

export class ImapServer {
  private readonly ctx: ServerContext;
  private readonly servers: net.Server[] = [];
  private tlsOptions: tls.SecureContextOptions;
  private sweep: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly limiter: ConnectionLimiter;

  constructor(deps: ImapDeps) {
    this.tlsOptions = {
      key: deps.tls.key,
      cert: deps.tls.cert,
      minVersion: deps.config.tls_min_version_client,
      ...CLIENT_TLS_OPTIONS,
    };
    this.ctx = {
      config: deps.config,
      store: deps.store,
      accounts: deps.accounts,
      bus: deps.bus,
      log: deps.log,
      secureContext: tls.createSecureContext(this.tlsOptions),
      sessions: new Set(),
      userIp: new Map(),
      recentFloor: new Map(),
      bodies: deps.bodies ?? new BodyBudget(deps.config.max_buffered_bytes, deps.config.max_message_size),
      limits: {
        ...DEFAULT_LIMITS,
        preLoginTimeout: deps.config.preauth_timeout * 1000,
        handshakeTimeout: deps.config.tls_handshake_timeout * 1000,
        ...deps.limits,
      },
      metrics: deps.metrics,
    };
    this.limiter = new ConnectionLimiter(deps.config.max_connections_per_ip);
  }

  /** mode "implicit" = TLS from the first byte (993); "starttls" = plaintext greeting, STARTTLS, LOGINDISABLED before TLS (143). */
  listen(port: number, host: string, mode: "implicit" | "starttls"): Promise<net.Server> {
    const server =
      mode === "implicit"
        ? tls.createServer(
            { ...this.tlsOptions, handshakeTimeout: this.ctx.limits.handshakeTimeout },
            (socket) => this.accept(socket, false),
          )
        : net.createServer((socket) => this.accept(socket, true));
    // Node only reports a failed or timed-out handshake; closing the socket is ours to do.
    if (server instanceof tls.Server) server.on("tlsClientError", (_err, socket) => socket.destroy());
    limitConnections(
      server,
      this.limiter,
      mode === "starttls" ? "* BYE Too many connections from your address\r\n" : null,
    );
    this.servers.push(server);
    this.startSweep();
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        server.on("error", (err) => this.ctx.log.error({ err }, "imap: listener error"));
        resolve(server);
      });
    });
  }

  /** Attach a session to an already-open TLS socket (port 443, ALPN "imap"). */
  handleTlsSocket(socket: tls.TLSSocket): void {
    this.startSweep();
    this.accept(socket, false);
  }

  setCertificate(key: string, cert: string): void {
    this.tlsOptions = { ...this.tlsOptions, key, cert };
    this.ctx.secureContext = tls.createSecureContext(this.tlsOptions);
    for (const s of this.servers) if (s instanceof tls.Server) s.setSecureContext({ ...this.tlsOptions });
  }

  /** Stop listening, say "* BYE" to every session, wait up to `graceMs` for them to end. */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    for (const s of [...this.ctx.sessions]) s.shutdown("Server shutting down");
    const until = Date.now() + graceMs;
    while (this.ctx.sessions.size > 0 && Date.now() < until) await sleep(20);
    for (const s of [...this.ctx.sessions]) (s as Session).transport.destroy();
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = null;
  }

  get sessionCount(): number {
    return this.ctx.sessions.size;
  }

  /** Sessions in IDLE now (metrics; counted when asked). */
  get idleCount(): number {
    let n = 0;
    for (const s of this.ctx.sessions) if ((s as Session).idling) n++;
    return n;
  }

  private accept(socket: net.Socket, starttls: boolean): void {
    socket.on("error", noop);
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    if (this.ctx.sessions.size >= this.ctx.config.max_imap_connections) {
      socket.end("* BYE Too many connections\r\n");
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    new Session(this.ctx, socket, starttls).greet();
  }

  private startSweep(): void {
    if (this.sweep) return;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const s of this.ctx.sessions) s.tick(now);
    }, this.ctx.limits.sweepInterval);
    this.sweep.unref();
  }
}

function noop(): void {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
