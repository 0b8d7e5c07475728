/**
 * VRFY never tells whether an address exists (docs/reference-relay.md §5.1, test_no_vrfy):
 * every well-formed VRFY gets `252 2.0.0`. smtp-server's own text differs, so
 * its handler is replaced once for all connections.
 */
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

type Handler = (this: { send(code: number, text: string): void }, command: Buffer, cb: () => void) => void;

const proto = SMTPConnection.prototype as unknown as { handler_VRFY: Handler };

proto.handler_VRFY = function (command, callback) {
  if (!command.toString().trim().split(/\s+/)[1]) this.send(501, "5.5.4 Syntax: VRFY address");
  else this.send(252, "2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
  callback();
};
