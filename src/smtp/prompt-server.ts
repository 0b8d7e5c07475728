/**
 * smtp-server with a prompt greeting. smtp-server holds every greeting for
 * 100 ms to catch "early talkers", a spam heuristic of classic MTAs (its
 * SMTPConnection.init()). A chatmail relay takes mail only from authenticated
 * users and, from other servers, only encrypted mail with an aligned DKIM
 * signature, so the heuristic buys nothing and costs every connection 100 ms.
 *
 * PromptSmtpServer hands each socket to a connection whose init() greets at
 * once; everything else (the connection limit, the optional reverse lookup,
 * the "You talk too soon" refusal of a client that does not wait for the
 * greeting, RFC 5321 §4.3.1) stays the library's own code.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { SMTPServer } from "smtp-server";
import { SMTPConnection, type SMTPConnectionOptions } from "smtp-server/lib/smtp-connection.js";

class PromptConnection extends SMTPConnection {
  override init(): void {
    this._setListeners(() => {
      const { options, connections } = this._server;
      // the same refusal as SMTPConnection.init()
      if (options.maxClients && connections.size > options.maxClients) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      this.connectionReady();
    });
  }
}

export class PromptSmtpServer extends SMTPServer {
  /** SMTPServer.connect() with PromptConnection in place of SMTPConnection. */
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new PromptConnection(this, socket, socketOptions ?? undefined);
    this.connections.add(connection);
    connection.on("error", (err: Error) => this._onError(err));
    connection.on("connect", (data) => this._onClientConnect(data));
    connection.init();
  }
}
