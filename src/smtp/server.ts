/**
 * SMTP listeners on smtp-server: submission (465 implicit TLS, 587 STARTTLS,
 * 443 ALPN "smtp") and MX (25). The protocol library owns the wire; this file
 * only maps its hooks to accounts and the delivery pipeline.
 */
import type { Server } from "node:net";
import type { TLSSocket } from "node:tls";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import type { Accounts } from "../accounts/types.ts";
import type { Config } from "../config/types.ts";
import type { Delivery } from "../delivery/pipeline.ts";
import type { Reply } from "../delivery/types.ts";
import type { Logger } from "../log.ts";
import { readMessage } from "./message.ts";
import "./vrfy.ts";

export interface SmtpDeps {
  config: Config;
  accounts: Accounts;
  delivery: Delivery;
  log: Logger;
  tls: { key: string; cert: string };
}

export type SmtpRole = "submission" | "mx";
export type SmtpMode = "implicit" | "starttls";

/** RFC 5321 recipient limit as exposed to clients in maxsmtprecipients. */
export const MAX_RECIPIENTS = 1000;
/** Per-IP connection limit on port 25. */
const MX_CONNECTIONS_PER_IP = 20;

function replyError(r: Reply): Error {
  const e = new Error(r.text) as Error & { responseCode: number };
  e.responseCode = r.code;
  return e;
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
  private readonly perIp = new Map<string, number>();

  constructor(private readonly deps: SmtpDeps) {}

  private options(role: SmtpRole, mode: SmtpMode): SMTPServerOptions {
    const { config, accounts, delivery, log } = this.deps;
    const submission = role === "submission";
    const base: SMTPServerOptions = {
      secure: mode === "implicit",
      key: this.deps.tls.key,
      cert: this.deps.tls.cert,
      // reference §1.2: TLS >= 1.3 on submission, >= 1.2 on 25
      minVersion: submission ? config.tls_min_version_client : "TLSv1.2",
      name: config.mail_domain,
      banner: "ESMTP chatrelay",
      size: config.max_message_size,
      maxClients: config.max_smtp_connections,
      maxRecipients: MAX_RECIPIENTS,
      socketTimeout: 5 * 60_000,
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
      base.onAuth = (auth, _session, cb) => {
        accounts.login(auth.username ?? "", auth.password ?? "", "smtp").then(
          (r) => {
            if (r.ok) cb(null, { user: r.address });
            else cb(replyError({ code: 535, text: "5.7.8 Authentication credentials invalid" }));
          },
          (e: unknown) => {
            log.error({ err: e }, "smtp auth failed internally");
            cb(replyError({ code: 454, text: "4.7.0 Temporary authentication failure" }));
          },
        );
      };
    } else {
      base.onConnect = (session, cb) => {
        const ip = session.remoteAddress;
        const n = (this.perIp.get(ip) ?? 0) + 1;
        if (n > MX_CONNECTIONS_PER_IP)
          return cb(replyError({ code: 421, text: "4.7.0 Too many connections" }));
        this.perIp.set(ip, n);
        cb();
      };
      base.onClose = (session) => {
        const ip = session.remoteAddress;
        const n = (this.perIp.get(ip) ?? 1) - 1;
        if (n <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, n);
      };
    }
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
      cb();
    };
    base.onRcptTo = (address, _session, cb) => {
      const rcpt = address.address;
      if (!rcpt.includes("@"))
        return cb(replyError({ code: 501, text: "5.1.3 Bad recipient address syntax" }));
      if (!submission && !delivery.isLocal(rcpt))
        return cb(replyError({ code: 554, text: "5.7.1 Relay access denied" }));
      const refused = delivery.canRoute(rcpt);
      if (refused) return cb(replyError(refused));
      cb();
    };
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
    const { config, delivery } = this.deps;
    const message = await readMessage(stream as never, declaredSize(session), config.max_message_size);
    if (message === null || (stream as { sizeExceeded?: boolean }).sizeExceeded)
      return { code: 552, text: "5.3.4 Message exceeds maximum size" };
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
    const server = new SMTPServer(this.options(role, mode));
    server.on("error", (e: Error) => this.deps.log.debug({ err: e.message }, "smtp connection error"));
    this.servers.push(server);
    if (role === "submission" && mode === "implicit") this.submissionsForAlpn = server;
    const net = (server as unknown as { server: Server }).server;
    return new Promise((resolve, reject) => {
      net.once("error", reject);
      server.listen(port, host, () => {
        net.off("error", reject);
        resolve(net);
      });
    });
  }

  /** A submission session on an already-open TLS socket (443, ALPN "smtp"). */
  handleTlsSocket(socket: TLSSocket): void {
    if (!this.submissionsForAlpn) {
      const server = new SMTPServer(this.options("submission", "implicit"));
      server.on("error", (e: Error) => this.deps.log.debug({ err: e.message }, "smtp connection error"));
      this.servers.push(server);
      this.submissionsForAlpn = server;
    }
    (this.submissionsForAlpn as unknown as { connect(s: TLSSocket, o: object): void }).connect(socket, {});
  }

  setCertificate(key: string, cert: string): void {
    this.deps.tls = { key, cert };
    for (const s of this.servers) s.updateSecureContext({ key, cert });
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
