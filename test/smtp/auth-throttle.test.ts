/**
 * SMTP AUTH throttles on submission (issue 10): a delayed 535, 421 and the close
 * after 3 failures on one connection, the per-address failure budget (454 4.7.0
 * without hashing), the per-address account-creation budget and the password
 * cap. Clients come from different loopback addresses (all of 127/8 is local).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MAX_PASSWORD_BYTES } from "../../src/accounts/types.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { TlsLines } from "../support/tls-lines.ts";

/** An SMTP client over implicit TLS from a chosen local address. */
class Client extends TlsLines {
  static async connect(port: number, localAddress: string): Promise<Client> {
    const c = new Client(await TlsLines.open(port, localAddress));
    assert.match((await c.reply()) ?? "", /^220 /);
    assert.match((await c.command("EHLO client.test")) ?? "", /^250 /m);
    return c;
  }

  /** The next complete reply (last line), or null once the connection is closed. */
  reply(): Promise<string | null> {
    return this.next((buf) => {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*(\d{3}(?: [^\r\n]*)?)\r\n/.exec(buf);
      return m ? { value: m[1] as string, used: m[0].length } : null;
    }, 15_000);
  }

  async command(line: string): Promise<string | null> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  auth(user: string, password: string): Promise<string | null> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString("base64")}`);
  }
}

let r: TestRelay;
let existing: string;

before(async () => {
  r = await startTestRelay({ max_login_failures_per_ip: 4, max_accounts_per_ip: 2 });
  existing = r.newAddress();
  const c = await Client.connect(r.submissionsPort, "127.0.0.1");
  assert.match((await c.auth(existing, r.password)) ?? "", /^235 /);
  c.close();
});
after(() => r.close());

const hashes = () => r.relay.parts.accounts.hashes.submitted;

test("a failed AUTH is answered after a delay; the third on one connection gets 421 and the close", async () => {
  const c = await Client.connect(r.submissionsPort, "127.0.0.2");
  const t0 = performance.now();
  assert.match((await c.auth(existing, "wrong-password-1")) ?? "", /^535 /);
  const waited = performance.now() - t0;
  assert.ok(waited >= 900, `answered after ${waited} ms`);
  assert.match((await c.auth(existing, "wrong-password-2")) ?? "", /^535 /);
  assert.equal(await c.auth(existing, "wrong-password-3"), "421 4.7.0 Too many authentication failures");
  assert.equal(await c.reply(), null, "closed");
  c.close();
});

test("per-address failure budget: 454 4.7.0 without hashing; another address is unaffected", async () => {
  await Promise.all(
    [0, 1].map(async () => {
      const c = await Client.connect(r.submissionsPort, "127.0.0.3");
      for (let i = 0; i < 2; i++) assert.match((await c.auth(existing, "wrong-password")) ?? "", /^535 /);
      c.close();
    }),
  );
  const c = await Client.connect(r.submissionsPort, "127.0.0.3");
  const before = hashes();
  const newcomer = r.newAddress();
  assert.match((await c.auth(newcomer, r.password)) ?? "", /^454 4\.7\.0 /);
  assert.equal(hashes(), before, "no hashing while throttled");
  assert.equal(await r.relay.parts.store.getAccount(newcomer), undefined);
  c.close();
  const d = await Client.connect(r.submissionsPort, "127.0.0.4");
  assert.match((await d.auth(existing, r.password)) ?? "", /^235 /);
  d.close();
});

test("account-creation budget per address: the N+1th new account is refused, another address is fine", async () => {
  for (let i = 0; i < 2; i++) {
    const c = await Client.connect(r.submissionsPort, "127.0.0.5");
    assert.match((await c.auth(r.newAddress(), r.password)) ?? "", /^235 /);
    c.close();
  }
  const third = r.newAddress();
  const c = await Client.connect(r.submissionsPort, "127.0.0.5");
  assert.match((await c.auth(third, r.password)) ?? "", /^535 /);
  c.close();
  assert.equal(await r.relay.parts.store.getAccount(third), undefined);
  const d = await Client.connect(r.submissionsPort, "127.0.0.6");
  assert.match((await d.auth(third, r.password)) ?? "", /^235 /);
  d.close();
});

test("password cap: a password over MAX_PASSWORD_BYTES is refused before hashing", async () => {
  const over = r.newAddress();
  const c = await Client.connect(r.submissionsPort, "127.0.0.7");
  const before = hashes();
  assert.match((await c.auth(over, "p".repeat(MAX_PASSWORD_BYTES + 1))) ?? "", /^535 /);
  assert.equal(hashes(), before);
  assert.equal(await r.relay.parts.store.getAccount(over), undefined);
  c.close();
});
