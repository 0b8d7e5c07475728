/**
 * The cache of verified logins skips the crypt on reconnects but never
 * weakens the check: it is keyed by the stored hash too, so an account that
 * was removed and created again with another password (by another process:
 * `chatrelay expire`, an import) no longer lets the old password in.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AccountService } from "../../src/accounts/accounts.ts";
import { sha512Crypt } from "../../src/accounts/sha512-crypt.ts";
import { silentLogger } from "../../src/log.ts";
import { accountsWorld } from "../support/accounts.ts";

test("a changed stored hash invalidates the cached login; the cache still skips the crypt", async () => {
  const world = await accountsWorld("chatrelay-login-cache-");
  const accounts = new AccountService({ config: world.config, store: world.store, log: silentLogger });
  const address = "cachetest@chat.test";
  try {
    assert.equal((await accounts.login(address, "first-password", "imap", "127.0.0.1")).ok, true);
    // a cached reconnect does not ask the hash pool
    const verify = accounts.hashes.verify.bind(accounts.hashes);
    let crypts = 0;
    accounts.hashes.verify = (password: string, hash: string) => {
      crypts++;
      return verify(password, hash);
    };
    assert.equal((await accounts.login(address, "first-password", "imap", "127.0.0.1")).ok, true);
    assert.equal(crypts, 0, "a reconnect with the verified password skips the crypt");

    // removed and created again elsewhere, with another password; no event reaches this process
    await world.store.deleteAccount(address);
    const other = `{SHA512-CRYPT}${sha512Crypt("second-password", "abcdefghijklmnop")}`;
    await world.store.createAccount(address, other, 0);
    const old = await accounts.login(address, "first-password", "imap", "127.0.0.1");
    assert.equal(old.ok, false, "the old password no longer logs in");
    assert.ok(crypts > 0, "the changed hash was checked, not the cache");
    assert.equal((await accounts.login(address, "second-password", "imap", "127.0.0.1")).ok, true);
  } finally {
    await accounts.close();
    await world.close();
  }
});
