/**
 * SMTP listeners on smtp-server: submission (465 implicit TLS, 587 STARTTLS,
 * 443 ALPN "smtp") and MX (25). The protocol library owns the wire; this file
 * only maps its hooks to accounts and the delivery pipeline.
 */
import type { Server, Socket } from "node:net";
import { type TLSSocket, Server as TlsServer } from "node:tls";
import type { SMTPServer, SMTPServerOptions, SMTPServerSession } from "smtp-server";
import type { Accounts } from "../accounts/types.ts";
import type { Config } from "../config/types.ts";
import type { Delivery } from "../delivery/pipeline.ts";
import type { Reply } from "../delivery/types.ts";
import type { Logger } from "../log.ts";
import { BodyBudget } from "../net/body-budget.ts";
import { ConnectionLimiter, limitConnections } from "../net/connection-limit.ts";
import { canonicalIp } from "../policy/ip.ts";
import { CLIENT_TLS_OPTIONS } from "../tls/policy.ts";
import { readMessage } from "./message.ts";
import "./vrfy.ts";
import { PromptSmtpServer } from "./prompt-server.ts";

export interface SmtpDeps {
  config: Config;
  accounts: Accounts;
  delivery: Delivery;
  log: Logger;
  tls: { key: string; cert: string };
  /** The relay-wide budget for message bodies in memory (shared with /mxdeliv). */
  bodies?: BodyBudget;
}

export type SmtpRole = "submission" | "mx";
export type SmtpMode = "implicit" | "starttls";

/** RFC 5321 recipient limit as exposed to clients in maxsmtprecipients. */
export const MAX_RECIPIENTS = 1000;
/**
 * A connection must complete its TLS handshake and get as far as an accepted
 * MAIL FROM (after AUTH on submission) within this many preauth_timeouts; then
 * only the idle timeout applies (RFC 5321 §4.5.3.2.7: 5 minutes).
 */
const READY_TIMEOUTS = 3;
const IDLE_TIMEOUT_MS = 5 * 60_000;

/** The deadlines of one connection not yet in a mail transaction. */
interface Watch {
  secured: NodeJS.Timeout | null;
  ready: NodeJS.Timeout | null;
}

function replyError(r: Reply): Error {
  const e = new Error(r.text) as Error & { responseCode: number };
  e.responseCode = r.code;
  return e;
}

/** The part of smtp-server's SMTPConnection used by endSessionsOf (a 421 also closes it). */
interface SmtpConnectionLike {
  session?: { user?: unknown };
  send(code: number, text: string): void;
  remoteAddress?: string;
  remotePort?: number;
  _socket?: Socket;
}

/** The socket smtp-server's session for `raw` currently reads from (TLS after STARTTLS). */
function currentSocket(server: SMTPServer, raw: Socket): Socket | undefined {
  const connections = (server as unknown as { connections: Set<SmtpConnectionLike> }).connections;
  const key = connectionKey(raw.remoteAddress, raw.remotePort);
  for (const c of connections) if (connectionKey(c.remoteAddress, c.remotePort) === key) return c._socket;
  return undefined;
}

/** One TCP connection, whichever way its address is written (smtp-server normalises it). */
function connectionKey(address: string | undefined, port: number | undefined): string {
  const a = address ?? "";
  return `${canonicalIp(a) ?? a}|${port}`;
}

function clear(w: Watch, what: "secured" | "ready" | "all"): void {
  if (what !== "ready" && w.secured) {
    clearTimeout(w.secured);
    w.secured = null;
  }
  if (what !== "secured" && w.ready) {
    clearTimeout(w.ready);
    w.ready = null;
  }
}

function declaredSize(session: SMTPServerSession): number {
  const args = session.envelope.mailFrom
    ? (session.envelope.mailFrom.args as Record<string, string>)
    : undefined;
  const n = Number(args?.SIZE ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export class SmtpService {
  private readonly servers: SMTPServer[] = [];
  private submissionsForAlpn: SMTPServer | undefined;
  /** The 465 listeners (TLS here, SMTP in submissionsForAlpn). */
  private readonly implicitServers: TlsServer[] = [];
  /** Connections per address on 465/587 and on 25 (read-only outside; tests wait on them). */
  readonly submissionLimiter: ConnectionLimiter;
  readonly mxLimiter: ConnectionLimiter;
  private readonly bodies: BodyBudget;
  /** Connections still owing a handshake or a first transaction, by "address|port". */
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly deps: SmtpDeps) {
    const c = deps.config;
    this.submissionLimiter = new ConnectionLimiter(c.max_connections_per_ip);
    this.mxLimiter = new ConnectionLimiter(c.max_mx_connections_per_ip);
    this.bodies = deps.bodies ?? new BodyBudget(c.max_buffered_bytes, c.max_message_size);
  }

  private options(role: SmtpRole, mode: SmtpMode): SMTPServerOptions {
    const { config, accounts, delivery, log } = this.deps;
    const submission = role === "submission";
    const base: SMTPServerOptions = {
      secure: mode === "implicit",
      key: this.deps.tls.key,
      cert: this.deps.tls.cert,
      // docs/reference-relay.md §1.2: TLS >= 1.3 on submission, >= 1.2 on 25
      minVersion: submission ? config.tls_min_version_client : "TLSv1.2",
      // src/tls/policy.ts: AEAD-only suites for clients; port 25 keeps Node's defaults
      ...(submission ? CLIENT_TLS_OPTIONS : {}),
      name: config.mail_domain,
      banner: "ESMTP chatrelay",
      size: config.max_message_size,
      maxClients: config.max_smtp_connections,
      // MAX_RECIPIENTS is enforced in onRcptTo: smtp-server's own 452 has no enhanced status code
      socketTimeout: IDLE_TIMEOUT_MS,
      // no PTR lookups: they leak every client address to the resolver and delay the greeting
      disableReverseLookup: true,
      closeTimeout: 5_000,
      logger: false,
      hideSTARTTLS: mode === "implicit",
      disabledCommands: submission ? (mode === "implicit" ? ["STARTTLS"] : []) : ["AUTH"],
      authMethods: ["PLAIN", "LOGIN"],
      allowInsecureAuth: false,
      authOptional: !submission,
      authRequiredMessage: "5.7.0 Authentication required",
      // strict parsing refuses "_" domains (self-signed test relays); our own
      // checks below decide what an acceptable address is
      lenientAddressParsing: true,
    };
    if (submission) {
      // A failed AUTH is answered after 1-2 s (as IMAP's failed LOGIN) and the third
      // on one connection ends it with 421 (Postfix's smtpd_hard_error_limit idea;
      // smtp-server closes after any 421). Spent budgets (src/accounts/throttle.ts)
      // and an overloaded hash pool are temporary: 454 4.7.0 (RFC 4954 §6).
      const authFailures = new WeakMap<SMTPServerSession, number>();
      const failedAuth = async (session: SMTPServerSession, reply: Reply): Promise<Error> => {
        await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 1000));
        const n = (authFailures.get(session) ?? 0) + 1;
        authFailures.set(session, n);
        if (n >= 3) return replyError({ code: 421, text: "4.7.0 Too many authentication failures" });
        return replyError(reply);
      };
      base.onAuth = (auth, session, cb) => {
        accounts
          .login(auth.username ?? "", auth.password ?? "", "smtp", session.remoteAddress)
          .then(async (r) => {
            if (r.ok) return cb(null, { user: r.address });
            if (r.reason === "busy")
              return cb(replyError({ code: 454, text: "4.7.0 Temporary authentication failure" }));
            const reply =
              r.reason === "throttled"
                ? { code: 454, text: "4.7.0 Too many failed logins, try again later" }
                : { code: 535, text: "5.7.8 Authentication credentials invalid" };
            cb(await failedAuth(session, reply));
          })
          .catch((e: unknown) => {
            log.error({ err: e }, "smtp auth failed internally");
            cb(replyError({ code: 454, text: "4.7.0 Temporary authentication failure" }));
          });
      };
    }
    base.onSecure = (_socket, session, cb) => {
      this.settle(session, "secured");
      cb();
    };
    base.onMailFrom = (address, session, cb) => {
      if (!submission && !session.secure)
        return cb(replyError({ code: 530, text: "5.7.0 Must issue a STARTTLS command first" }));
      const from = address.address;
      if (submission) {
        if (from.toLowerCase() !== String(session.user))
          return cb(replyError({ code: 553, text: "5.7.1 Sender address rejected: not owned by user" }));
        const limited = delivery.admitSender(from);
        if (limited) return cb(replyError(limited));
      }
      this.settle(session, "ready");
      cb();
    };
    base.onRcptTo = (address, session, cb) => {
      const rcpt = address.address;
      // RFC 5321 §4.5.3.1.10, RFC 3463 X.5.3; a repeated recipient is no new one
      const known = session.envelope.rcptTo;
      if (
        known.length >= MAX_RECIPIENTS &&
        !known.some((r) => r.address.toLowerCase() === rcpt.toLowerCase())
      )
        return cb(replyError({ code: 452, text: "4.5.3 Too many recipients" }));
      if (!rcpt.includes("@"))
        return cb(replyError({ code: 501, text: "5.1.3 Bad recipient address syntax" }));
      if (!submission && !delivery.isLocal(rcpt))
        return cb(replyError({ code: 554, text: "5.7.1 Relay access denied" }));
      const refused = delivery.canRoute(rcpt);
      if (refused) return cb(replyError(refused));
      cb();
    };
    base.onClose = (session) => this.settle(session, "all");
    base.onData = (stream, session, cb) => {
      this.onData(role, stream, session).then(
        (r) => (r.code < 300 ? cb(null, r.text) : cb(replyError(r))),
        (e: unknown) => {
          log.error({ err: e }, "delivery failed");
          cb(replyError({ code: 451, text: "4.3.0 Local error in processing" }));
        },
      );
    };
    return base;
  }

  private async onData(
    role: SmtpRole,
    stream: NodeJS.ReadableStream,
    session: SMTPServerSession,
  ): Promise<Reply> {
    const { config } = this.deps;
    const reservation = this.bodies.open(session.remoteAddress);
    try {
      const read = await readMessage(
        stream as never,
        declaredSize(session),
        config.max_message_size,
        reservation,
      );
      if (read.kind === "too-big" || (stream as { sizeExceeded?: boolean }).sizeExceeded)
        return { code: 552, text: "5.3.4 Message exceeds maximum size" };
      // RFC 3463 §3.5 X.3.1 "mail system full": the sender tries again later
      if (read.kind === "no-memory") return { code: 452, text: "4.3.1 Insufficient system resources" };
      return await this.deliver(role, read.message, session);
    } finally {
      reservation.release();
    }
  }

  private deliver(role: SmtpRole, message: Buffer, session: SMTPServerSession): Promise<Reply> {
    const { delivery } = this.deps;
    const envelope = {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
      recipients: session.envelope.rcptTo.map((r) => r.address),
    };
    const origin =
      role === "submission"
        ? ({ kind: "submission", user: String(session.user) } as const)
        : ({ kind: "mx", peerIp: session.remoteAddress, via: "smtp" } as const);
    return delivery.accept(envelope, message, origin);
  }

  listen(role: SmtpRole, mode: SmtpMode, port: number, host: string): Promise<Server> {
    if (role === "submission" && mode === "implicit") return this.listenImplicit(port, host);
    const server = new PromptSmtpServer(this.options(role, mode));
    server.on("error", (e: Error) => this.deps.log.debug({ err: e.message }, "smtp connection error"));
    this.servers.push(server);
    const net = (server as unknown as { server: Server }).server;
    // The plaintext part (EHLO, STARTTLS) and the handshake get preauth_timeout.
    const securedMs = this.deps.config.preauth_timeout * 1000;
    net.on("connection", (raw: Socket) => this.watch(raw, securedMs, server));
    limitConnections(
      net,
      role === "mx" ? this.mxLimiter : this.submissionLimiter,
      "421 4.7.0 Too many connections from your address\r\n",
    );
    return new Promise((resolve, reject) => {
      net.once("error", reject);
      server.listen(port, host, () => {
        net.off("error", reject);
        resolve(net);
      });
    });
  }

  /**
   * 465: the TLS handshake runs in a tls.Server of our own (with its handshake
   * deadline), and the established socket is handed to smtp-server, as on 443.
   * smtp-server's own implicit TLS cannot be given a handshake deadline: its
   * timeout is the 5-minute idle one, and destroying the TCP socket under its
   * handshake crashes the process (Node 20).
   */
  private listenImplicit(port: number, host: string): Promise<Server> {
    const { config } = this.deps;
    const server = new TlsServer({
      key: this.deps.tls.key,
      cert: this.deps.tls.cert,
      minVersion: config.tls_min_version_client,
      ...CLIENT_TLS_OPTIONS,
      handshakeTimeout: config.tls_handshake_timeout * 1000,
    });
    // Node only reports a handshake timeout here; the socket must be closed by us.
    server.on("tlsClientError", (_err: Error, socket: TLSSocket) => socket.destroy());
    server.on("secureConnection", (socket: TLSSocket) => this.handleTlsSocket(socket));
    limitConnections(server, this.submissionLimiter, null);
    this.implicitServers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        server.on("error", (e: Error) => this.deps.log.error({ err: e.message }, "smtp: listener error"));
        resolve(server);
      });
    });
  }

  /** A submission session on an already-open TLS socket (465, and 443 with ALPN "smtp"). */
  handleTlsSocket(socket: TLSSocket): void {
    if (!this.submissionsForAlpn) {
      const server = new PromptSmtpServer(this.options("submission", "implicit"));
      server.on("error", (e: Error) => this.deps.log.debug({ err: e.message }, "smtp connection error"));
      this.servers.push(server);
      this.submissionsForAlpn = server;
    }
    socket.on("error", () => {});
    this.watch(socket, null, this.submissionsForAlpn);
    (this.submissionsForAlpn as unknown as { connect(s: TLSSocket, o: object): void }).connect(socket, {});
  }

  /**
   * Arms a new connection's deadlines: TLS within `securedMs` (null: already
   * TLS), a first accepted MAIL FROM within READY_TIMEOUTS × preauth_timeout.
   * A connection that misses one is dropped; settle() disarms them.
   */
  private watch(socket: Socket, securedMs: number | null, server: SMTPServer): void {
    const key = connectionKey(socket.remoteAddress, socket.remotePort);
    // the session's current socket: the TLS one once STARTTLS is through
    const drop = () => (currentSocket(server, socket) ?? socket).destroy();
    const w: Watch = {
      secured: securedMs === null ? null : setTimeout(drop, securedMs),
      ready: setTimeout(drop, READY_TIMEOUTS * this.deps.config.preauth_timeout * 1000),
    };
    this.watches.set(key, w);
    socket.once("close", () => {
      clear(w, "all");
      if (this.watches.get(key) === w) this.watches.delete(key);
    });
  }

  private settle(session: SMTPServerSession, what: "secured" | "ready" | "all"): void {
    const key = connectionKey(session.remoteAddress, (session as { remotePort?: number }).remotePort);
    const w = this.watches.get(key);
    if (!w) return;
    clear(w, what);
    if (!w.secured && !w.ready) this.watches.delete(key);
  }

  /** Ends the sessions logged in as `address` (its account was removed) with a 421. */
  endSessionsOf(address: string): void {
    for (const server of this.servers) {
      const connections = (server as unknown as { connections: Set<SmtpConnectionLike> }).connections;
      for (const c of [...connections]) if (c.session?.user === address) c.send(421, "4.7.0 Account removed");
    }
  }

  setCertificate(key: string, cert: string): void {
    this.deps.tls = { key, cert };
    for (const s of this.servers) s.updateSecureContext({ key, cert });
    for (const s of this.implicitServers)
      s.setSecureContext({
        key,
        cert,
        minVersion: this.deps.config.tls_min_version_client,
        ...CLIENT_TLS_OPTIONS,
      });
  }

  async close(): Promise<void> {
    for (const s of this.implicitServers) s.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
