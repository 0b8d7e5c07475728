/**
 * Connection and authentication: CAPABILITY, NOOP, LOGOUT (RFC 3501 §6.1),
 * STARTTLS, AUTHENTICATE PLAIN with SASL-IR (RFC 4959, RFC 4616), LOGIN
 * (RFC 3501 §6.2). No login before TLS (LOGINDISABLED, PRIVACYREQUIRED); a failed
 * login is answered after a 1-2 s delay that holds only this session, and the
 * third failed login of a connection ends it (Dovecot's login processes also
 * disconnect after 3 failed attempts). The per-address and per-account budgets
 * live in src/accounts/throttle.ts.
 */
import type { LoginFailure } from "../../accounts/types.ts";
import type { Session } from "../session.ts";
import { ANY, bad, type CommandSpec, NOTAUTH, no, ok, type Result } from "./types.ts";

/** Failed logins one connection may make; the last one is followed by BYE. */
export const MAX_FAILURES_PER_CONNECTION = 3;
const failures = new WeakMap<Session, number>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function failedLogin(s: Session, reason: LoginFailure = "invalid"): Promise<Result> {
  // An overloaded hash pool is not the client's failure: answer at once.
  if (reason === "busy") return no("Temporary authentication failure, try again later.", "UNAVAILABLE");
  const [min, max] = s.ctx.limits.failedLoginDelay;
  await sleep(min + Math.random() * (max - min));
  // RFC 5530 §3: AUTHENTICATIONFAILED tells the client there is no point in
  // trying the same login and password again later; a spent budget is
  // temporary and not about these credentials, so it is UNAVAILABLE (a
  // temporary failure), which a client may retry later. That tells nothing about
  // whether the account exists: the budgets are charged for unknown names too.
  const result =
    reason === "throttled"
      ? no("Too many failed logins, try again later.", "UNAVAILABLE")
      : no("Authentication failed.", "AUTHENTICATIONFAILED");
  const n = (failures.get(s) ?? 0) + 1;
  failures.set(s, n);
  if (n < MAX_FAILURES_PER_CONNECTION) return result;
  return { ...result, after: () => s.shutdown("Too many authentication failures") };
}

const PRIVACY = no(
  "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
  "PRIVACYREQUIRED",
);

async function authenticateUser(s: Session, user: string, password: string): Promise<Result> {
  if (!s.transport.tls) return PRIVACY;
  // Overlong names and passwords (MAX_PASSWORD_BYTES) are refused by login()
  // before any hashing, and charged to the budgets like any failure.
  let res: Awaited<ReturnType<typeof s.ctx.accounts.login>>;
  try {
    res = await s.ctx.accounts.login(user, password, "imap", s.transport.remoteAddress);
  } catch (err) {
    s.ctx.log.error({ err }, "imap: login failed");
    return no("Temporary authentication failure.", "UNAVAILABLE");
  }
  if (!res.ok) {
    s.ctx.log.debug({ reason: res.reason, detail: res.detail }, "imap: login refused");
    return failedLogin(s, res.reason);
  }
  if (s.closed) return no("Connection closed.");
  // Dovecot's mail_max_userip_connections.
  if (s.userIpCount(res.address) >= s.ctx.limits.maxUserIp) {
    return no("Maximum number of connections from user+IP exceeded.", "LIMIT");
  }
  s.login(res.address);
  return ok("Logged in", `CAPABILITY ${s.capabilities()}`);
}

/** RFC 4648 base64, strictly (SASL responses, RFC 4959 §3). */
function decodeBase64(text: string): Buffer | null {
  if (text === "=") return Buffer.alloc(0);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text, "base64");
}

export const capability: CommandSpec<"CAPABILITY"> = {
  states: ANY,
  run(s) {
    s.write(`* CAPABILITY ${s.capabilities()}\r\n`);
    return ok("Capability completed.");
  },
};

export const noop: CommandSpec<"NOOP"> = {
  states: ANY,
  run: () => ok("NOOP completed."),
};

export const logout: CommandSpec<"LOGOUT"> = {
  states: ANY,
  run(s) {
    s.write("* BYE Logging out\r\n");
    return { ...ok("Logout completed."), after: () => s.close() };
  },
  expunge: () => false,
};

export const starttls: CommandSpec<"STARTTLS"> = {
  states: NOTAUTH,
  run(s) {
    if (s.transport.tls) return bad("TLS is already active.");
    if (!s.starttls) return bad("STARTTLS is not offered here.");
    return {
      ...ok("Begin TLS negotiation now."),
      async after() {
        // Anything pipelined after STARTTLS was sent in plaintext: never act on it.
        s.discardBufferedInput();
        try {
          await s.transport.startTls(s.ctx.secureContext, s.ctx.limits.handshakeTimeout);
        } catch {
          s.transport.destroy();
        }
      },
    };
  },
};

export const login: CommandSpec<"LOGIN"> = {
  states: NOTAUTH,
  run: (s, cmd) => authenticateUser(s, cmd.user, cmd.password),
};

export const authenticate: CommandSpec<"AUTHENTICATE"> = {
  states: NOTAUTH,
  async run(s, cmd) {
    if (cmd.mechanism !== "PLAIN") return no("Unsupported authentication mechanism.");
    if (!s.transport.tls) return PRIVACY;
    let response = cmd.initial;
    if (response === null) {
      s.write("+ \r\n");
      const line = await s.readLine();
      if (line === null) return no("Connection closed.");
      response = line.toString("latin1").trim();
    }
    if (response === "*") return bad("Authentication aborted by client.");
    const decoded = decodeBase64(response);
    if (!decoded) return bad("Invalid base64 data in AUTHENTICATE response.");
    // RFC 4616: [authzid] NUL authcid NUL passwd
    const parts = decoded.toString("utf8").split("\0");
    if (parts.length !== 3) return bad("Invalid PLAIN response.");
    const [authzid, authcid, passwd] = parts as [string, string, string];
    if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
      return no("Authorization as another user is not allowed.", "AUTHORIZATIONFAILED");
    }
    return authenticateUser(s, authcid, passwd);
  },
};
