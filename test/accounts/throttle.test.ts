/**
 * Login and account-creation budgets, the password cap, equal work for unknown
 * accounts and the hash pool's bounded queue (issue 10), on the real accounts
 * service with a real SQLite store and real hashing workers.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AccountService } from "../../src/accounts/accounts.ts";
import { HashPool, HashPoolBusy } from "../../src/accounts/hash-pool.ts";
import { Budget } from "../../src/accounts/throttle.ts";
import { MAX_PASSWORD_BYTES } from "../../src/accounts/types.ts";
import type { Config } from "../../src/config/types.ts";
import { silentLogger } from "../../src/log.ts";
import { addressKey } from "../../src/net/address-key.ts";
import type { Store } from "../../src/store/types.ts";
import { type AccountsWorld, accountsWorld } from "../support/accounts.ts";

const HOUR = 3_600_000;

test("addressKey: IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64, anything else as itself", () => {
  assert.equal(addressKey("192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("2001:db8:1:2::5"), addressKey("2001:DB8:1:2:ffff:1:2:3"));
  assert.notEqual(addressKey("2001:db8:1:2::5"), addressKey("2001:db8:1:3::5"));
  assert.equal(addressKey("fe80::1%eth0"), addressKey("fe80::2"));
  assert.equal(addressKey("not an address"), "not an address");
  assert.equal(addressKey(undefined), "");
});

test("Budget: a burst of perHour, then one cell every hour/perHour; full keys are swept", () => {
  let now = 0;
  const b = new Budget({ perHour: 4, now: () => now });
  for (let i = 0; i < 4; i++) assert.equal(b.take("k"), true);
  assert.equal(b.allows("k"), false);
  assert.equal(b.take("k"), false);
  assert.equal(b.allows("other"), true, "keys are independent");
  now += HOUR / 4 - 1;
  assert.equal(b.allows("k"), false);
  now += 1;
  assert.equal(b.take("k"), true, "one cell back after a quarter hour");
  assert.equal(b.take("k"), false);
  now += HOUR;
  assert.equal(b.sweep(), 1, "a key whose budget is full again is forgotten");
  assert.equal(b.size, 0);
});

test("Budget: memory is capped, the least recently charged key goes first", () => {
  const b = new Budget({ perHour: 1, now: () => 0, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) b.take(`k${i}`);
  assert.equal(b.size, 100);
  assert.equal(b.allows("k999"), false);
  assert.equal(b.allows("k0"), true);
});

test("hash pool: past its queue, requests are refused at once with HashPoolBusy", async () => {
  const pool = new HashPool(1, 2);
  try {
    const hash = await pool.hash("password12");
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => pool.verify("password12", hash)),
    );
    const busy = settled.filter((s) => s.status === "rejected" && s.reason instanceof HashPoolBusy);
    assert.equal(busy.length, 7, "1 running + 2 waiting accepted, the rest shed");
    assert.ok(settled.slice(0, 3).every((s) => s.status === "fulfilled" && s.value === true));
    // The queue drained: accepted again.
    assert.equal(await pool.verify("password12", hash), true);
    await assert.rejects(pool.hash("x".repeat(MAX_PASSWORD_BYTES + 1)), RangeError);
  } finally {
    await pool.close();
  }
});

describe("accounts: budgets, password cap, equal work", () => {
  let world: AccountsWorld;
  let store: Store;
  let base: Config;
  const services: AccountService[] = [];
  let n = 0;
  const fresh = () => `throt${(n++).toString().padStart(4, "0")}@chat.test`;

  function service(overrides: Partial<Config> = {}, hashPool?: HashPool): AccountService {
    const s = new AccountService({ config: { ...base, ...overrides }, store, log: silentLogger, hashPool });
    services.push(s);
    return s;
  }

  before(async () => {
    world = await accountsWorld("chatrelay-throttle-");
    ({ config: base, store } = world);
  });
  after(async () => {
    for (const s of services) await s.close();
    await world.close();
  });

  test("per-address failure budget: refused without hashing; another address unaffected", async () => {
    const a = service({ max_login_failures_per_ip: 5 });
    const user = fresh();
    assert.equal((await a.login(user, "password12", "imap", "127.0.0.1")).ok, true);
    for (let i = 0; i < 5; i++) {
      const r = await a.login(user, `wrong-pass-${i}`, "imap", "::ffff:127.0.0.1");
      assert.equal(r.ok === false && r.reason, "invalid");
    }
    const hashed = a.hashes.submitted;
    const r = await a.login(fresh(), "password12", "imap", "127.0.0.1");
    assert.equal(r.ok === false && r.reason, "throttled", "not even a new account from there");
    const again = await a.login(user, "password12", "smtp", "127.0.0.1");
    assert.equal(again.ok === false && again.reason, "throttled");
    assert.equal(a.hashes.submitted, hashed, "no hashing while throttled");
    assert.equal((await a.login(user, "password12", "imap", "127.0.0.2")).ok, true);
    // IPv6: the whole /64 shares one budget, the next /64 has its own.
    for (let i = 0; i < 5; i++) await a.login(user, "wrong-pass", "imap", `2001:db8:0:1::${i}`);
    assert.equal((await a.login(user, "password12", "imap", "2001:db8:0:1::99")).ok, false);
    assert.equal((await a.login(user, "password12", "imap", "2001:db8:0:2::1")).ok, true);
  });

  test("per-account failure budget: guesses from many addresses stop; its owner's session keeps working", async () => {
    const a = service({ max_login_failures_per_account: 3 });
    const user = fresh();
    const other = fresh();
    assert.equal((await a.login(user, "password12", "imap", "10.0.0.1")).ok, true);
    assert.equal((await a.login(other, "password12", "imap", "10.0.0.1")).ok, true);
    for (let i = 0; i < 3; i++) await a.login(user, "wrong-pass", "imap", `10.0.1.${i}`);
    const hashed = a.hashes.submitted;
    const r = await a.login(user, "another-guess", "imap", "10.0.2.1");
    assert.equal(r.ok === false && r.reason, "throttled");
    assert.equal(a.hashes.submitted, hashed, "no hashing while throttled");
    assert.equal(
      (await a.login(user, "password12", "imap", "10.0.0.1")).ok,
      true,
      "verified before: no lockout",
    );
    assert.equal(
      (await a.login(other, "password12", "imap", "10.0.2.1")).ok,
      true,
      "other accounts unaffected",
    );
    // Unknown names are charged too, so "throttled" does not tell whether one exists.
    const ghost = "ghost!!!!@chat.test";
    for (let i = 0; i < 3; i++) await a.login(ghost, "wrong-pass", "imap", `10.0.3.${i}`);
    const g = await a.login(ghost, "wrong-pass", "imap", "10.0.4.1");
    assert.equal(g.ok === false && g.reason, "throttled");
  });

  test("account-creation budget per address: the N+1th new account is refused, another address is fine", async () => {
    const a = service({ max_accounts_per_ip: 3 });
    for (let i = 0; i < 3; i++) {
      const r = await a.login(fresh(), "password12", "imap", "2001:db8::1");
      assert.equal(r.ok && r.created, true);
    }
    const refused = fresh();
    const r = await a.login(refused, "password12", "imap", "2001:db8::2");
    assert.equal(r.ok === false && r.reason, "nocreate");
    assert.equal(await store.getAccount(refused), undefined);
    const elsewhere = await a.login(refused, "password12", "imap", "192.0.2.7");
    assert.equal(elsewhere.ok && elsewhere.created, true);
  });

  test("password cap: longer than MAX_PASSWORD_BYTES (in UTF-8) is refused before hashing", async () => {
    const a = service();
    const atCap = "ä".repeat(MAX_PASSWORD_BYTES / 2);
    assert.equal((await a.login(fresh(), atCap, "imap", "127.0.0.1")).ok, true);
    const hashed = a.hashes.submitted;
    const over = fresh();
    const r = await a.login(over, `${atCap}x`, "imap", "127.0.0.1");
    assert.equal(r.ok === false && r.reason, "invalid");
    assert.equal(a.hashes.submitted, hashed);
    assert.equal(await store.getAccount(over), undefined);
  });

  test("equal work: a name that cannot be created costs one crypt, like a wrong password", async (t) => {
    const user = fresh();
    assert.equal((await service().login(user, "password12", "imap", "127.0.0.1")).ok, true);
    // A fresh service (the admission check is cached for 2 s) with creation switched off.
    writeFileSync(base.nocreate_file, "");
    const a = service();
    const cost = async (login: () => Promise<unknown>): Promise<{ hashes: number; ms: number }> => {
      const h = a.hashes.submitted;
      const t = performance.now();
      await login();
      return { hashes: a.hashes.submitted - h, ms: performance.now() - t };
    };
    const wrong = () => a.login(user, "wrong-password", "imap", "127.0.0.1");
    const uncreatable = [
      () => a.login("ab@chat.test", "password12", "imap", "127.0.0.1"), // localpart too short
      () => a.login("ab+cdefgh@chat.test", "password12", "imap", "127.0.0.1"), // bad character
      () => a.login(fresh(), "short", "imap", "127.0.0.1"), // password too short
    ];
    try {
      assert.equal((await cost(wrong)).hashes, 1);
      for (const f of uncreatable) assert.equal((await cost(f)).hashes, 1);
      const nocreate = () => a.login(fresh(), "password12", "imap", "127.0.0.1");
      const r = await nocreate();
      assert.equal(r.ok === false && r.reason, "nocreate");
      assert.equal((await cost(nocreate)).hashes, 1);
      // Timing: interleaved samples, medians within a generous factor.
      const tw: number[] = [];
      const tu: number[] = [];
      for (let i = 0; i < 10; i++) {
        tw.push((await cost(wrong)).ms);
        tu.push((await cost(i % 2 ? nocreate : uncreatable[i % 3]!)).ms);
      }
      const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]!;
      const [mw, mu] = [median(tw), median(tu)];
      t.diagnostic(`median ms: wrong password ${mw.toFixed(1)}, cannot be created ${mu.toFixed(1)}`);
      assert.ok(mu > mw / 4 && mu < mw * 4, `medians: wrong password ${mw} ms, unknown ${mu} ms`);
    } finally {
      rmSync(base.nocreate_file);
    }
  });

  test("an overloaded hash pool sheds logins as busy instead of queueing them", async () => {
    const a = service({}, new HashPool(1, 1));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => a.login(fresh(), "password12", "imap", "127.0.0.1")),
    );
    const busy = results.filter((r) => !r.ok && r.reason === "busy").length;
    assert.equal(busy, 6, JSON.stringify(results));
    assert.equal(results.filter((r) => r.ok).length, 2);
  });
});
