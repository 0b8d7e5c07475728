/**
 * Out-of-space handling in the store (the live disk-full test is test/abuse/disk-full.test.ts).
 * SQLite may answer SQLITE_FULL by rolling back the whole transaction, not just the
 * failing statement (https://www.sqlite.org/lang_transaction.html, "Response To Errors
 * Within A Transaction"); group commit must then fail the whole batch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
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
