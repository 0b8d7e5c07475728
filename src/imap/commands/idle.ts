/**
 * IDLE (RFC 2177). After "+ idling" every change of the selected mailbox is
 * written the moment it is published (the bus listener flushes the view while
 * `idling`), EXPUNGE included. "* OK Still here" every imap_idle_keepalive
 * seconds; no server-side IDLE timeout. Works without a selected mailbox too.
 */
import { AUTHED, bad, type CommandSpec, no, ok } from "./types.ts";

export const idle: CommandSpec<"IDLE"> = {
  states: AUTHED,
  async run(s) {
    s.write("+ idling\r\n");
    s.setIdle(true);
    const line = await s.readLine();
    s.setIdle(false);
    if (line === null) return no("Connection closed.");
    if (line.toString("latin1").trim().toUpperCase() !== "DONE") return bad("Expected DONE.");
    return ok("IDLE terminated.");
  },
};
