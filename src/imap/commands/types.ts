/** What a command handler returns and how commands are registered. */
import type { Session } from "../session.ts";
import type { Command } from "../wire/types.ts";

export interface Result {
  status: "OK" | "NO" | "BAD";
  /** Response code without brackets, e.g. "READ-WRITE" or "APPENDUID 7 3". */
  code?: string;
  text: string;
  /** Runs after the tagged response is written (STARTTLS, COMPRESS, LOGOUT). */
  after?: () => void | Promise<void>;
}

export type SessionState = "notauth" | "auth" | "selected";

/** The command type for one name or a group of names that share a syntax (e.g. SELECT | EXAMINE). */
export type CommandOf<N extends Command["name"]> = Command extends infer C
  ? C extends { name: infer M }
    ? [N] extends [M]
      ? C & { name: N }
      : never
    : never
  : never;

export interface CommandSpec<N extends Command["name"] = Command["name"]> {
  states: readonly SessionState[];
  run(s: Session, cmd: CommandOf<N>, tag: string): Promise<Result> | Result;
  /**
   * Whether pending EXPUNGE responses may be sent before this command's tagged
   * response (RFC 3501 §7.4.1: not during FETCH, STORE, SEARCH by sequence number).
   */
  expunge?(cmd: CommandOf<N>): boolean;
}

/** A spec seen by the dispatcher, which hands it the command it was registered for. */
export interface AnyCommandSpec {
  states: readonly SessionState[];
  run(s: Session, cmd: Command, tag: string): Promise<Result> | Result;
  expunge?(cmd: Command): boolean;
}

export type CommandTable = { [N in Command["name"]]: CommandSpec<N> };

export const ok = (text: string, code?: string): Result => ({ status: "OK", text, code });
export const no = (text: string, code?: string): Result => ({ status: "NO", text, code });
export const bad = (text: string, code?: string): Result => ({ status: "BAD", text, code });

export const ANY: readonly SessionState[] = ["notauth", "auth", "selected"];
export const AUTHED: readonly SessionState[] = ["auth", "selected"];
export const SELECTED: readonly SessionState[] = ["selected"];
export const NOTAUTH: readonly SessionState[] = ["notauth"];
