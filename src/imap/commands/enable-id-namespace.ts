/** ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342). */
import { quote } from "../wire/encode.ts";
import { ANY, AUTHED, type CommandSpec, ok } from "./types.ts";

export const enable: CommandSpec<"ENABLE"> = {
  states: AUTHED,
  run(s) {
    // No extension that needs enabling is implemented (CONDSTORE, UTF8=ACCEPT):
    // RFC 5161 §3.1 lists only what was enabled, here nothing.
    s.write("* ENABLED\r\n");
    return ok("Enabled.");
  },
};

export const id: CommandSpec<"ID"> = {
  states: ANY,
  run(s) {
    // Delta Chat fails the login if the answer to ID does not parse (chatmail/core src/imap/client.rs).
    s.write(`* ID (${quote("name")} ${quote("chatrelay")})\r\n`);
    return ok("ID completed.");
  },
};

export const namespace: CommandSpec<"NAMESPACE"> = {
  states: AUTHED,
  run(s) {
    s.write('* NAMESPACE (("" "/")) NIL NIL\r\n');
    return ok("Namespace completed.");
  },
};
