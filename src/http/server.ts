/**
 * The HTTPS listener (443) and the HTTP listener (80).
 *
 * Port 443 carries three protocols on one TLS listener, told apart by ALPN
 * (RFC 7301) as the reference relay's nginx stream block does
 * (docs/reference-relay.md §1.2): a client offering "smtp" gets an SMTP submission session, "imap" an
 * IMAP session, anything else (or no ALPN) HTTPS. The TLS handshake happens
 * here; the decrypted socket is handed to the IMAP or SMTP server, or emitted
 * into an http.Server that never listens itself. While the ACME client has a
 * TLS-ALPN-01 challenge pending, "acme-tls/1" handshakes for that name get the
 * challenge certificate and end there (RFC 8737, tls/alpn-challenge.ts).
 *
 * Port 80 answers ACME HTTP-01 challenges and redirects everything else to
 * https (RFC 8555 §8.3).
 */
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { Server, Socket } from "node:net";
import { type TLSSocket, Server as TlsServer } from "node:tls";
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { BodyBudget } from "../net/body-budget.ts";
import { ConnectionLimiter, limitConnections } from "../net/connection-limit.ts";
import { ALPN_ACME, AlpnChallenges } from "../tls/alpn-challenge.ts";
import { CLIENT_TLS_OPTIONS } from "../tls/policy.ts";
import { ACME_CHALLENGE_PREFIX, AcmeChallenges } from "./acme-challenge.ts";
import { HttpsApp } from "./app.ts";
import type { MxDelivery } from "./mxdeliv.ts";
import { type PortsSource, publicPort } from "./ports.ts";
import type { RateLimit } from "./rate-limit.ts";
import { notFound, redirect, requestHost, requestPath, send } from "./respond.ts";

/** Something that runs a protocol session on an established TLS socket. */
export interface TlsSocketHandler {
  handleTlsSocket(socket: TLSSocket): void;
}

export interface HttpDeps {
  config: Config;
  /** AccountService: `.admission.refusal()` says why accounts cannot be created now. */
  accounts: { admission: { refusal(): Promise<string | undefined> } };
  /** Delivery: `.accept(envelope, message, origin)` for /mxdeliv. */
  delivery: MxDelivery;
  log: Logger;
  tls: { key: string; cert: string };
  imap: TlsSocketHandler;
  smtp: TlsSocketHandler;
  /** Live listening ports (e.g. `() => relay.ports`) for autoconfig, dclogin links and redirects. */
  ports?: PortsSource;
  /** Per-client limit of /new (default 2 r/s, burst 5); null = none. */
  newRateLimit?: RateLimit | null;
  /** Clock for the rate limit, milliseconds (tests). */
  now?: () => number;
  /** The relay-wide budget for message bodies in memory (shared with SMTP). */
  bodies?: BodyBudget;
}

/** ALPN protocol ids (IANA registry; "imap" and "smtp" as Delta Chat and the reference relay use them). */
export const ALPN_HTTP = "http/1.1";
export const ALPN_IMAP = "imap";
export const ALPN_SMTP = "smtp";

/** nginx's `\bsmtp\b` then `\bimap\b` on the offered list; HTTP otherwise (RFC 7301 §3.2). */
export function selectAlpn(offered: readonly string[]): string | undefined {
  if (offered.includes(ALPN_SMTP)) return ALPN_SMTP;
  if (offered.includes(ALPN_IMAP)) return ALPN_IMAP;
  if (offered.includes(ALPN_HTTP)) return ALPN_HTTP;
  // e.g. only "h2": a fatal no_application_protocol alert, as nginx >= 1.21.4 sends
  return undefined;
}

/**
 * Request deadlines on 443: the header block within HEADERS_TIMEOUT_MS, the
 * whole request (a /mxdeliv body of max_message_size included) within
 * REQUEST_TIMEOUT_MS, an idle keep-alive connection closed after KEEP_ALIVE_MS.
 */
const HEADERS_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5 * 60_000;
const KEEP_ALIVE_MS = 10_000;
const HTTP_REFUSAL = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

export class HttpService {
  readonly acme: AcmeChallenges;
  /** TLS-ALPN-01 challenge certificates (RFC 8737), set by the ACME client in tls/. */
  readonly acmeTls = new AlpnChallenges();
  private readonly app: HttpsApp;
  private readonly httpsHandler: HttpServer;
  private readonly tlsServers: TlsServer[] = [];
  private readonly plainServers: HttpServer[] = [];
  /** Connections still in the TLS handshake (not yet handed to a protocol). */
  private readonly handshaking = new Set<Socket>();
  private closed = false;
  private readonly httpsLimiter: ConnectionLimiter;
  private readonly httpLimiter: ConnectionLimiter;

  constructor(private readonly deps: HttpDeps) {
    const c = deps.config;
    this.httpsLimiter = new ConnectionLimiter(c.max_connections_per_ip);
    this.httpLimiter = new ConnectionLimiter(c.max_connections_per_ip);
    this.acme = AcmeChallenges.inDataDir(deps.config.data_dir);
    this.app = new HttpsApp({
      config: deps.config,
      accounts: deps.accounts,
      delivery: deps.delivery,
      log: deps.log,
      acme: this.acme,
      ports: deps.ports,
      newRateLimit: deps.newRateLimit,
      now: deps.now,
      bodies: deps.bodies ?? new BodyBudget(c.max_buffered_bytes, c.max_message_size),
    });
    this.httpsHandler = createHttpServer(
      {
        requestTimeout: REQUEST_TIMEOUT_MS,
        headersTimeout: HEADERS_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_MS,
        // how often the two timeouts above are checked (Node's default is 30 s)
        connectionsCheckingInterval: 1000,
      },
      this.app.handle,
    );
    // This server never listens itself (the TLS listener hands it sockets), and
    // Node only starts the headersTimeout/requestTimeout checks on "listening".
    this.httpsHandler.emit("listening");
  }

  /** The 443 listener: TLS with ALPN routing. */
  listenHttps(port: number, host: string): Promise<Server> {
    const server = new TlsServer({
      key: this.deps.tls.key,
      cert: this.deps.tls.cert,
      minVersion: "TLSv1.2",
      ...CLIENT_TLS_OPTIONS,
      handshakeTimeout: this.deps.config.tls_handshake_timeout * 1000,
      // ALPN routing, and the TLS-ALPN-01 certificate while an ACME challenge is pending
      ...this.acmeTls.serverOptions(selectAlpn),
    });
    server.on("connection", (raw: Socket) => {
      this.handshaking.add(raw);
      raw.once("close", () => this.handshaking.delete(raw));
    });
    server.on("secureConnection", (socket: TLSSocket) => {
      this.handshaking.delete((socket as TLSSocket & { _parent?: Socket })._parent as Socket);
      this.route(socket);
    });
    // Node only reports a failed or timed-out handshake; closing the socket is ours to do.
    server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      this.deps.log.debug({ err: err.message }, "tls handshake failed");
      socket.destroy();
    });
    limitConnections(server, this.httpsLimiter, null);
    this.tlsServers.push(server);
    return listen(server, port, host, this.deps.log);
  }

  /** The 80 listener: ACME challenges, else a redirect to https. */
  listenHttp(port: number, host: string): Promise<Server> {
    const server = createHttpServer(
      { requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: KEEP_ALIVE_MS },
      (req, res) => {
        this.plain(req, res).catch(() => res.destroy());
      },
    );
    limitConnections(server, this.httpLimiter, HTTP_REFUSAL);
    this.plainServers.push(server);
    return listen(server, port, host, this.deps.log);
  }

  setCertificate(key: string, cert: string): void {
    this.deps.tls = { key, cert };
    for (const s of this.tlsServers)
      s.setSecureContext({ key, cert, minVersion: "TLSv1.2", ...CLIENT_TLS_OPTIONS });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.tlsServers) s.close();
    for (const raw of this.handshaking) raw.destroy();
    for (const s of this.plainServers) {
      s.close();
      s.closeAllConnections();
    }
    this.httpsHandler.closeAllConnections();
    // stops the timeout checks started in the constructor
    this.httpsHandler.close();
  }

  private route(socket: TLSSocket): void {
    const protocol = socket.alpnProtocol;
    // RFC 8737 §3: a TLS-ALPN-01 validation ends with the handshake
    if (protocol === ALPN_ACME) {
      socket.end();
      return;
    }
    if (protocol === ALPN_IMAP || protocol === ALPN_SMTP) {
      // the client ports' TLS floor (docs/reference-relay.md §1.2: TLS 1.3 on 993/465), HTTPS keeps 1.2
      if (this.deps.config.tls_min_version_client === "TLSv1.3" && socket.getProtocol() !== "TLSv1.3") {
        socket.destroy();
        return;
      }
      if (protocol === ALPN_IMAP) this.deps.imap.handleTlsSocket(socket);
      else this.deps.smtp.handleTlsSocket(socket);
      return;
    }
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.httpsHandler.emit("connection", socket);
  }

  private async plain(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === "HEAD";
    const path = requestPath(req);
    if (path?.startsWith(ACME_CHALLENGE_PREFIX)) {
      const value = await this.acme.get(path.slice(ACME_CHALLENGE_PREFIX.length));
      if (value === undefined) notFound(res, head);
      else send(res, 200, value, { "Content-Type": "application/octet-stream" }, head);
      return;
    }
    const host = requestHost(req) || this.deps.config.mail_domain;
    const port = publicPort(this.deps.config, "https", this.deps.ports);
    const authority = port === undefined || port === 443 ? host : `${host}:${port}`;
    redirect(res, `https://${authority}${req.url?.startsWith("/") ? req.url : "/"}`, head);
  }
}

function listen(server: Server, port: number, host: string, log: Logger): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      // After listening an error is logged, never thrown (crash policy, docs/operations.md).
      server.on("error", (err) => log.error({ err: err.message }, "http: listener error"));
      resolve(server);
    });
  });
}
