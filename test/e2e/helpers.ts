/** Shared pieces of the end-to-end scenarios: a relay, a Delta Chat core, accounts on it. */
import { createLogger, type Logger, silentLogger } from "../../src/log.ts";
import type { DcServer } from "../support/deltachat.ts";
import type { TestRelay } from "../support/relay.ts";

/** >= 9 characters: the relay creates the account on first login (docs/reference-relay.md §2.2). */
export const PASSWORD = "e2e-password-123";

/** Implicit TLS IMAP and submission of a test relay, by IP (the core resolves names itself). */
export function serverOf(r: TestRelay): DcServer {
  return { host: r.host, imapPort: r.imapsPort, smtpPort: r.submissionsPort };
}

/** Sizes of the messages delivered to `address` while recording (from the relay's event bus). */
export function recordDeliveries(r: TestRelay, address: string): { sizes: number[]; stop: () => void } {
  const sizes: number[] = [];
  const stop = r.relay.parts.bus.subscribe(address, (e) => {
    if (e.kind === "exists" && e.sender !== undefined) for (const rec of e.records) sizes.push(rec.size);
  });
  return { sizes, stop };
}

/** The relays' log: silent unless CHATRELAY_E2E_LOG names a level (e.g. "debug"), then on stdout. */
export function relayLog(name: string): Logger {
  const level = process.env.CHATRELAY_E2E_LOG;
  return level ? createLogger(level).child({ relay: name }) : silentLogger;
}
