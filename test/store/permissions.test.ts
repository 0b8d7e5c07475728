/**
 * The data directory is private whatever the umask: data_dir and every folder in
 * it 0700, the database (+ -wal, -shm), message files, the DKIM key and the TLS
 * key and certificate 0600. A data_dir that exists with a looser mode is tightened.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { INLINE_MAX_BYTES } from "../../src/store/inline-bodies.ts";
import { startTestRelay } from "../support/relay.ts";

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

/** Every path under `dir` with its mode, e.g. ["messages/20260101/123", "700"]. */
function modes(dir: string, prefix = ""): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out.push([prefix + name, mode(p)]);
    if (statSync(p).isDirectory()) out.push(...modes(p, `${prefix + name}/`));
  }
  return out;
}

test("with umask 022 the relay creates data_dir 0700 and every file in it 0600", async () => {
  const old = process.umask(0o022);
  const base = mkdtempSync(join(tmpdir(), "chatrelay-perm-"));
  chmodSync(base, 0o755);
  const dataDir = join(base, "data");
  try {
    const r = await startTestRelay({ data_dir: dataDir });
    try {
      const store = r.relay.parts.store;
      await store.createAccount(`permtest1@${r.domain}`, "h", 1);
      const inbox = (await store.getMailbox(`permtest1@${r.domain}`, "INBOX"))!;
      // one body above the inline threshold, so that it is a file
      const large = `Subject: x\r\n\r\n${"x".repeat(INLINE_MAX_BYTES)}\r\n`;
      await store.append(inbox.id, { data: Buffer.from(large) });
      const all = modes(dataDir);
      const names = all.map(([p]) => p);
      for (const expected of [
        "store.sqlite",
        "store.sqlite-wal",
        "store.sqlite-shm",
        "tls/key.pem",
        "tls/cert.pem",
      ])
        assert.ok(names.includes(expected), `${expected} exists: ${names.join(" ")}`);
      assert.ok(
        names.some((p) => p.startsWith("dkim/") && p.endsWith(".private")),
        "DKIM key exists",
      );
      assert.ok(
        names.some((p) => /^messages\/\d{8}\/\d{3}\/[0-9a-f-]+$/.test(p)),
        "a message file exists",
      );
      assert.equal(mode(dataDir), "700", "data_dir");
      for (const [p, m] of all) {
        const isDir = statSync(join(dataDir, p)).isDirectory();
        assert.equal(m, isDir ? "700" : "600", p);
      }
    } finally {
      await r.close();
    }
  } finally {
    process.umask(old);
    rmSync(base, { recursive: true, force: true });
  }
});

test("an existing data_dir with a looser mode is tightened, and an existing database too", async () => {
  const old = process.umask(0o022);
  const dataDir = mkdtempSync(join(tmpdir(), "chatrelay-perm-"));
  try {
    let r = await startTestRelay({ data_dir: dataDir });
    await r.close();
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, "store.sqlite"), 0o644);
    mkdirSync(join(dataDir, "messages"), { recursive: true });
    chmodSync(join(dataDir, "messages"), 0o755);
    r = await startTestRelay({ data_dir: dataDir });
    try {
      assert.equal(mode(dataDir), "700");
      assert.equal(mode(join(dataDir, "store.sqlite")), "600");
      assert.equal(mode(join(dataDir, "messages")), "700");
    } finally {
      await r.close();
    }
  } finally {
    process.umask(old);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
