/**
 * TURN credentials for calls, in the "TURN REST API" scheme that coturn
 * implements with `use-auth-secret` + `static-auth-secret`
 * (draft-uberti-behave-turn-rest-00 §2.2):
 *   username = expiry as Unix seconds
 *   password = base64(HMAC-SHA1(shared secret, username))
 * Handed to clients as IMAP METADATA /shared/vendor/deltachat/turn in the
 * reference relay's form "<host>:<port>:<username>:<password>" (docs/reference-relay.md §2.10).
 */
import { createHmac } from "node:crypto";
import type { Config } from "../config/types.ts";

/** Credentials stay valid this long (the reference relay's chatmail-turn: 5 days). */
export const TURN_CREDENTIAL_LIFETIME_SECONDS = 5 * 24 * 3600;

export interface TurnCredential {
  host: string;
  port: number;
  username: string;
  password: string;
}

/** The TURN REST password for a username. */
export function turnPassword(secret: string, username: string): string {
  return createHmac("sha1", secret).update(username).digest("base64");
}

export function turnCredential(config: Config, nowMs: number): TurnCredential | undefined {
  if (!config.turn_secret) return undefined;
  const username = String(Math.floor(nowMs / 1000) + TURN_CREDENTIAL_LIFETIME_SECONDS);
  return {
    host: config.turn_host || config.mail_domain,
    port: config.turn_port,
    username,
    password: turnPassword(config.turn_secret, username),
  };
}

/** The METADATA value "<host>:<port>:<expiry>:<password>", or undefined when TURN is not configured. */
export function turnCredentials(config: Config, nowMs: number): string | undefined {
  const c = turnCredential(config, nowMs);
  return c && `${c.host}:${c.port}:${c.username}:${c.password}`;
}
