/**
 * Out-of-space handling in the store (the live disk-full test is test/abuse/disk-full.test.ts).
 * SQLite may answer SQLITE_FULL by rolling back the whole transaction, not just the
 * failing statement (https://www.sqlite.org/lang_transaction.html, "Response To Errors
 * Within A Transaction"); group commit must then fail the whole batch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AccountService } from "../../src/accounts/accounts.ts";
import { testConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/log.ts";
import { asStoreError, isOutOfSpace } from "../../src/store/full.ts";
import { StoreError } from "../../src/store/types.ts";
import { tempStore } from "./helpers.ts";

test("ENOSPC, EDQUOT and SQLITE_FULL become StoreError FULL; other errors pass through", () => {
  for (const code of ["ENOSPC", "EDQUOT", "SQLITE_FULL"]) {
    const e = asStoreError(Object.assign(new Error(code), { code }));
    assert.ok(e instanceof StoreError && e.code === "FULL", code);
    assert.equal(isOutOfSpace(e), true);
  }
  for (const e of [new Error("x"), Object.assign(new Error("io"), { code: "SQLITE_IOERR" }), null, "s"])
    assert.equal(asStoreError(e), e);
});

test("a write whose failure rolled back the transaction fails its whole batch; the next batch commits", async () => {
  const t = await tempStore();
  try {
    const { core } = t.store;
    const put = (key: string) => () => core.q("INSERT INTO meta (key, value) VALUES (?, 1)").run(key);
    // submitted in one turn: one batch
    const writes = [
      core.write(put("before")),
      core.write(() => {
        // what SQLite does on SQLITE_FULL in the worst case: the transaction is gone
        core.db.exec("ROLLBACK");
        throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
      }),
      core.write(put("after")),
    ];
    const settled = await Promise.allSettled(writes);
    for (const [i, s] of settled.entries())
      assert.equal(s.status, "rejected", `write ${i} was reported committed`);
    const keys = core.q("SELECT key FROM meta WHERE key IN ('before', 'after')").pluck().all();
    assert.deepEqual(keys, [], "a rejected write left rows behind");
    for (const s of settled) assert.equal(((s as PromiseRejectedResult).reason as StoreError).code, "FULL");
    assert.equal(core.db.inTransaction, false);
    await core.write(put("later"));
    assert.equal(core.q("SELECT value FROM meta WHERE key = 'later'").pluck().get(), 1);
  } finally {
    await t.cleanup();
  }
});

test("an IMAP login on a full disk succeeds without recording the login day", async () => {
  const t = await tempStore();
  // the store as it behaves when SQLite cannot grow its WAL
  const full = new Proxy(t.store, {
    get(target, prop, receiver) {
      if (prop === "setLastLoginDay") return () => Promise.reject(new StoreError("FULL", "full"));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const accounts = new AccountService({
    config: testConfig({ data_dir: t.dir }),
    store: full,
    log: silentLogger,
  });
  try {
    const address = "fulldisk1@_chatrelay.test";
    // created over SMTP (no login day), then the first IMAP login wants to record the day
    assert.equal((await accounts.login(address, "password-123", "smtp", "127.0.0.1")).ok, true);
    const r = await accounts.login(address, "password-123", "imap", "127.0.0.1");
    assert.equal(r.ok, true);
    await accounts.settled();
    assert.equal((await t.store.getAccount(address))?.lastLoginDay, 0);
  } finally {
    await accounts.close();
    await t.cleanup();
  }
});
