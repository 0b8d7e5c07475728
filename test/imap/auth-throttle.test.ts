/**
 * IMAP login throttles (issue 10): BYE after 3 failed logins on a connection,
 * the per-address and per-account failure budgets (refused without hashing,
 * NO [UNAVAILABLE]), the per-address account-creation budget and the password
 * cap. Clients come from different loopback addresses (all of 127/8 is local).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MAX_PASSWORD_BYTES } from "../../src/accounts/types.ts";
import { TlsLines } from "../support/tls-lines.ts";
import { type ImapHarness, startImap } from "./support/harness.ts";
import { quote } from "./support/raw-client.ts";

/** An IMAP client over implicit TLS from a chosen local address. */
class Client extends TlsLines {
  static async connect(port: number, localAddress: string): Promise<Client> {
    const c = new Client(await TlsLines.open(port, localAddress));
    await c.line();
    return c;
  }

  /** The next line, or null once the connection is closed. */
  line(): Promise<string | null> {
    return this.next((buf) => {
      const i = buf.indexOf("\r\n");
      return i < 0 ? null : { value: buf.slice(0, i), used: i + 2 };
    }, 10_000);
  }

  /** Sends a command; its tagged answer. */
  async command(tag: string, text: string): Promise<string> {
    this.write(`${tag} ${text}\r\n`);
    for (;;) {
      const l = await this.line();
      if (l === null) throw new Error(`closed before ${tag} was answered`);
      if (l.startsWith(`${tag} `)) return l;
    }
  }

  async login(tag: string, user: string, password: string): Promise<string> {
    return this.command(tag, `LOGIN ${quote(user)} ${quote(password)}`);
  }
}

const FAILED = /^\S+ NO \[AUTHENTICATIONFAILED\] /;
const UNAVAILABLE = /^\S+ NO \[UNAVAILABLE\] /;
const LOGGED_IN = /^\S+ OK \[CAPABILITY /;

let h: ImapHarness;
let unknown = 0;
/** A name of this relay that can never be created (a character outside [a-z0-9._-]). */
const uncreatable = () => `bad!${(unknown++).toString().padStart(5, "0")}@${h.config.mail_domain}`;

before(async () => {
  h = await startImap({ config: { max_login_failures_per_ip: 5, max_login_failures_per_account: 3 } });
});
after(() => h.close());

test("three failed logins on one connection: the third is followed by BYE and the close", async () => {
  const user = await h.newUser();
  const c = await Client.connect(h.port, "127.0.0.2");
  assert.match(await c.login("a1", user, "wrong-password-1"), FAILED);
  assert.match(await c.login("a2", uncreatable(), "wrong-password-2"), FAILED);
  assert.match(await c.login("a3", uncreatable(), "wrong-password-3"), FAILED);
  assert.equal(await c.line(), "* BYE Too many authentication failures");
  assert.equal(await c.line(), null, "closed");
  c.close();
});

test("per-address failure budget: refused without hashing; another address is unaffected", async () => {
  const user = await h.newUser();
  const first = await Client.connect(h.port, "127.0.0.3");
  for (let i = 0; i < 3; i++)
    assert.match(await first.login(`a${i}`, uncreatable(), "wrong-password"), FAILED);
  first.close();
  const second = await Client.connect(h.port, "127.0.0.3");
  for (let i = 0; i < 2; i++)
    assert.match(await second.login(`b${i}`, uncreatable(), "wrong-password"), FAILED);
  second.close();
  // Budget spent: even a login that would create an account is refused, and no hash is computed.
  const hashed = h.accounts.hashes.submitted;
  const third = await Client.connect(h.port, "127.0.0.3");
  const newcomer = `fresh${process.pid % 10000}`.padEnd(9, "0").slice(0, 9);
  const address = `${newcomer}@${h.config.mail_domain}`;
  assert.match(await third.login("c1", address, h.password), UNAVAILABLE);
  assert.equal(h.accounts.hashes.submitted, hashed, "no hashing while throttled");
  assert.equal(await h.store.getAccount(address), undefined);
  third.close();
  const other = await Client.connect(h.port, "127.0.0.4");
  assert.match(await other.login("d1", user, h.password), LOGGED_IN);
  other.close();
});

test("per-account failure budget: guesses from other addresses are refused; other accounts unaffected", async () => {
  const user = await h.newUser();
  const neighbour = await h.newUser();
  for (const ip of ["127.0.0.5", "127.0.0.6", "127.0.0.7"]) {
    const c = await Client.connect(h.port, ip);
    assert.match(await c.login("a1", user, "wrong-password"), FAILED);
    c.close();
  }
  const c = await Client.connect(h.port, "127.0.0.8");
  const hashed = h.accounts.hashes.submitted;
  assert.match(await c.login("b1", user, "another-guess"), UNAVAILABLE);
  assert.equal(h.accounts.hashes.submitted, hashed, "no hashing while throttled");
  assert.match(await c.login("b2", neighbour, h.password), LOGGED_IN);
  c.close();
  // Its owner, whose password was verified before, is not locked out.
  const owner = await Client.connect(h.port, "127.0.0.9");
  assert.match(await owner.login("c1", user, h.password), LOGGED_IN);
  owner.close();
});

test("password cap: a password over MAX_PASSWORD_BYTES is refused before hashing", async () => {
  const name = (s: string) => `${s}${process.pid % 100000}`.padEnd(9, "0").slice(0, 9);
  const atCap = `${name("capok")}@${h.config.mail_domain}`;
  const over = `${name("capno")}@${h.config.mail_domain}`;
  const c = await Client.connect(h.port, "127.0.0.10");
  const hashed = h.accounts.hashes.submitted;
  assert.match(await c.login("a1", over, "p".repeat(MAX_PASSWORD_BYTES + 1)), FAILED);
  assert.equal(h.accounts.hashes.submitted, hashed);
  assert.equal(await h.store.getAccount(over), undefined);
  assert.match(await c.login("a2", atCap, "p".repeat(MAX_PASSWORD_BYTES)), LOGGED_IN);
  c.close();
});

test("account-creation budget per address: the N+1th new account is refused, another address is fine", async () => {
  const t = await startImap({ config: { max_accounts_per_ip: 3 } });
  try {
    const name = (i: number) => `new${process.pid % 1000}${i}`.padEnd(9, "0").slice(0, 9);
    const address = (i: number) => `${name(i)}@${t.config.mail_domain}`;
    for (let i = 0; i < 3; i++) {
      const c = await Client.connect(t.port, "127.0.0.11");
      assert.match(await c.login("a1", address(i), t.password), LOGGED_IN);
      c.close();
    }
    const c = await Client.connect(t.port, "127.0.0.11");
    assert.match(await c.login("b1", address(3), t.password), FAILED);
    c.close();
    assert.equal(await t.store.getAccount(address(3)), undefined);
    const d = await Client.connect(t.port, "127.0.0.12");
    assert.match(await d.login("c1", address(3), t.password), LOGGED_IN);
    d.close();
  } finally {
    await t.close();
  }
});
