import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AccountService } from "../../src/accounts/accounts.ts";
import type { Config } from "../../src/config/types.ts";
import { silentLogger } from "../../src/log.ts";
import type { Store } from "../../src/store/types.ts";
import { type AccountsWorld, accountsWorld } from "../support/accounts.ts";

describe("accounts: create on first login (docs/reference-relay.md §2.2)", () => {
  let world: AccountsWorld;
  let store: Store;
  let config: Config;
  let accounts: AccountService;
  const day = 86400;
  let now = 1_800_000_000_000;

  before(async () => {
    world = await accountsWorld("chatrelay-accounts-");
    ({ config, store } = world);
    accounts = new AccountService({ config, store, log: silentLogger, now: () => now });
  });
  after(async () => {
    await accounts.close();
    await world.close();
  });

  test("first login creates the account with a SHA512-CRYPT hash", async () => {
    const r = await accounts.login("abcdefghi@chat.test", "password12", "smtp", "127.0.0.1");
    assert.deepEqual(r, { ok: true, address: "abcdefghi@chat.test", created: true });
    const acc = await store.getAccount("abcdefghi@chat.test");
    assert.match(acc!.passwordHash, /^\{SHA512-CRYPT\}\$6\$[^$]{16}\$[./0-9A-Za-z]{86}$/);
    const again = await accounts.login("abcdefghi@chat.test", "password12", "smtp", "127.0.0.1");
    assert.deepEqual(again, { ok: true, address: "abcdefghi@chat.test", created: false });
  });

  test("the stored hash is what OpenSSL's SHA512-crypt computes", async () => {
    const acc = await store.getAccount("abcdefghi@chat.test");
    const hash = acc!.passwordHash.replace("{SHA512-CRYPT}", "");
    // An independent implementation: `openssl passwd -6` (SHA512-crypt, default 5000 rounds).
    const salt = hash.split("$")[2]!;
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], { input: "password12\n" })
      .toString()
      .trim();
    assert.equal(out, hash);
  });

  test("a wrong password fails and never overwrites", async () => {
    const r = await accounts.login("abcdefghi@chat.test", "otherpassword", "imap", "127.0.0.1");
    assert.equal(r.ok, false);
    assert.equal(r.ok === false && r.reason, "invalid");
    const ok = await accounts.login("abcdefghi@chat.test", "password12", "imap", "127.0.0.1");
    assert.equal(ok.ok, true);
  });

  test("a fresh service (no cache) verifies the stored hash", async () => {
    const fresh = new AccountService({ config, store, log: silentLogger, now: () => now });
    try {
      assert.equal((await fresh.login("abcdefghi@chat.test", "password12", "smtp", "127.0.0.1")).ok, true);
      assert.equal((await fresh.login("abcdefghi@chat.test", "password13", "smtp", "127.0.0.1")).ok, false);
    } finally {
      await fresh.close();
    }
  });

  test("login names are case-insensitive", async () => {
    const r = await accounts.login("ABCDEFGHI@Chat.Test", "password12", "smtp", "127.0.0.1");
    assert.deepEqual(r, { ok: true, address: "abcdefghi@chat.test", created: false });
  });

  const refused: Array<[string, string, string]> = [
    ["other domain", "abcdefghi@other.test", "password12"],
    ["localpart too short", "abcdefgh@chat.test", "password12"],
    ["localpart too long", "abcdefghij@chat.test", "password12"],
    ["plus sign", "abcd+efgh@chat.test", "password12"],
    ["two @", "abc@efghi@chat.test", "password12"],
    ["password too short", "bcdefghij@chat.test", "pass5678"],
    ["empty password", "cdefghijk@chat.test", ""],
    ["CR in password", "defghijkl@chat.test", "password\r12"],
    ["bare domain", "@chat.test", "password12"],
  ];
  for (const [name, user, password] of refused) {
    test(`refused: ${name}`, async () => {
      const r = await accounts.login(user, password, "smtp", "127.0.0.1");
      assert.equal(r.ok, false);
      assert.equal(await store.getAccount(user.toLowerCase()), undefined);
    });
  }

  test("allowed characters . _ - and digits", async () => {
    const r = await accounts.login("a.b_c-d09@chat.test", "password12", "smtp", "127.0.0.1");
    assert.equal(r.ok, true);
  });

  test("concurrent first logins of one address produce exactly one account", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        accounts.login("racerace1@chat.test", `password-${i}`, "imap", "127.0.0.1"),
      ),
    );
    const created = results.filter((r) => r.ok && r.created);
    const ok = results.filter((r) => r.ok);
    assert.equal(created.length, 1);
    assert.equal(ok.length, 1, "only the winner's password works");
    const winner = results.findIndex((r) => r.ok);
    assert.equal(
      (await accounts.login("racerace1@chat.test", `password-${winner}`, "smtp", "127.0.0.1")).ok,
      true,
    );
  });

  test("concurrent first logins with one password all succeed, one creates", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        accounts.login("samesame1@chat.test", "same-password", "imap", "127.0.0.1"),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.equal(results.filter((r) => r.ok && r.created).length, 1);
  });

  test("the nocreate switch refuses new accounts but existing ones keep working", async () => {
    writeFileSync(config.nocreate_file, "");
    try {
      // the admission result is cached for two seconds
      now += 3000;
      const r = await accounts.login("newnewnew@chat.test", "password12", "smtp", "127.0.0.1");
      assert.equal(r.ok === false && r.reason, "nocreate");
      assert.equal((await accounts.login("abcdefghi@chat.test", "password12", "smtp", "127.0.0.1")).ok, true);
    } finally {
      rmSync(config.nocreate_file);
      now += 3000;
    }
    assert.equal((await accounts.login("newnewnew@chat.test", "password12", "smtp", "127.0.0.1")).ok, true);
  });

  test("resource limits refuse creation (disk)", async () => {
    const strict = new AccountService({
      config: { ...config, min_free_disk_space: Number.MAX_SAFE_INTEGER },
      store,
      log: silentLogger,
    });
    try {
      const r = await strict.login("diskdisk1@chat.test", "password12", "smtp", "127.0.0.1");
      assert.equal(r.ok === false && r.reason, "nocreate");
      assert.match(r.ok === false ? r.detail : "", /disk/);
      assert.equal((await strict.login("abcdefghi@chat.test", "password12", "smtp", "127.0.0.1")).ok, true);
    } finally {
      await strict.close();
    }
  });

  test("resource limits refuse creation (load, memory)", async () => {
    for (const over of [{ max_load_1m: -1 }, { min_available_memory: Number.MAX_SAFE_INTEGER }]) {
      const strict = new AccountService({ config: { ...config, ...over }, store, log: silentLogger });
      try {
        const r = await strict.login("loadload1@chat.test", "password12", "smtp", "127.0.0.1");
        assert.equal(r.ok === false && r.reason, "nocreate");
      } finally {
        await strict.close();
      }
    }
  });

  test("IMAP logins record the last-login day; SMTP logins do not", async () => {
    now = 1_800_000_000_000;
    await accounts.login("lastlogin@chat.test", "password12", "smtp", "127.0.0.1");
    await accounts.settled();
    assert.equal((await store.getAccount("lastlogin@chat.test"))!.lastLoginDay, 0);
    await accounts.login("lastlogin@chat.test", "password12", "imap", "127.0.0.1");
    await accounts.settled();
    const expected = Math.floor(now / 1000 / day) * day;
    assert.equal((await store.getAccount("lastlogin@chat.test"))!.lastLoginDay, expected);
    now += 2 * day * 1000;
    await accounts.login("lastlogin@chat.test", "password12", "imap", "127.0.0.1");
    await accounts.settled();
    assert.equal((await store.getAccount("lastlogin@chat.test"))!.lastLoginDay, expected + 2 * day);
  });

  test("IP relays use [a.b.c.d] addresses", async () => {
    const ipConfig = { ...config, mail_domain: "10.1.2.3" };
    const ip = new AccountService({ config: ipConfig, store, log: silentLogger });
    try {
      assert.equal((await ip.login("ipipipipi@[10.1.2.3]", "password12", "smtp", "127.0.0.1")).ok, true);
      assert.equal((await ip.login("ipipipipj@10.1.2.3", "password12", "smtp", "127.0.0.1")).ok, false);
    } finally {
      await ip.close();
    }
  });
});
