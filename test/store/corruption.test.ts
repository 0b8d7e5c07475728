/**
 * A damaged database file is reported through the store's onCorrupt hook, on
 * reads and on writes (serve exits on it, test/cli/crash-policy.test.ts); a
 * full disk is not corruption.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isCorruption } from "../../src/store/corruption.ts";
import { openStore } from "../../src/store/open.ts";
import { damage } from "./helpers.ts";

test("reads and writes of a damaged database report corruption", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-corrupt-"));
  const reports: unknown[] = [];
  const store = await openStore(dir, { onCorrupt: (err) => reports.push(err) });
  try {
    for (let i = 0; i < 300; i++) await store.createAccount(`user${i}@example.org`, "h".repeat(100), 1);
    store.core.db.pragma("wal_checkpoint(TRUNCATE)");
    store.core.db.pragma("cache_size = 1"); // read pages from the file again
    damage(join(dir, "store.sqlite"));
    await assert.rejects(store.getAccount("user150@example.org"), { code: /^SQLITE_CORRUPT/ });
    assert.equal(reports.length, 1, "read");
    await assert.rejects(store.createAccount("new@example.org", "h", 1), { code: /^SQLITE_CORRUPT/ });
    assert.ok(reports.length >= 2, "write");
    assert.ok(reports.every(isCorruption));
  } finally {
    await store.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a full disk or an I/O error is not corruption", () => {
  for (const code of ["SQLITE_FULL", "SQLITE_IOERR_WRITE", "ENOSPC", undefined])
    assert.equal(isCorruption(Object.assign(new Error("x"), { code })), false, String(code));
  for (const code of ["SQLITE_CORRUPT", "SQLITE_CORRUPT_INDEX", "SQLITE_NOTADB"])
    assert.equal(isCorruption(Object.assign(new Error("x"), { code })), true, code);
  assert.equal(isCorruption(null), false);
});
