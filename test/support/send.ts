// One submission of a fixture message: by default by its own sender, logged
// in as `from` with the relay's test password, the envelope and the header
// agreeing. Each option names the one thing a test makes differ.

import { type FixtureName, fixture } from "./mail.ts";
import type { TestRelay } from "./relay.ts";
import { type SendResult, submit } from "./smtp.ts";

export interface SendOptions {
  subject?: string;
  /** Who logs in (default `from`). */
  login?: string;
  /** Default: the relay's test password. */
  password?: string;
  /** RCPT TO (default `[to]`). */
  rcpts?: string[];
  /** The message sent instead of the fixture from `from` to `to`. */
  message?: Buffer;
}

/** Submits fixture `name` from `from` to `to` on `r`'s submissions port (implicit TLS). */
export function sendFixture(
  r: TestRelay,
  name: FixtureName,
  from: string,
  to: string,
  opts: SendOptions = {},
): Promise<SendResult> {
  return submit(
    r.submissions,
    opts.login ?? from,
    opts.password ?? r.password,
    { from, to: opts.rcpts ?? [to] },
    opts.message ?? fixture(name, from, to, opts.subject),
  );
}
