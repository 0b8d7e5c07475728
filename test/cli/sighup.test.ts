/**
 * The SIGHUP handler of `chatrelay serve` (src/cli/serve.ts) in a real child
 * process: a reload of unusable certificate files fails with a log line and
 * the old certificate stays; a good reload brings the new one.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { fingerprint } from "../support/tls.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;

test("SIGHUP: a failing reload is logged and keeps the old certificate, a good one installs the new", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-sighup-"));
  const [first, second] = await Promise.all([
    selfSignedCertificate(["_sighup.test"]),
    selfSignedCertificate(["_sighup.test"]),
  ]);
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  writeFileSync(certPath, first.cert);
  writeFileSync(keyPath, first.key);
  const ini = join(dir, "chatmail.ini");
  writeFileSync(
    ini,
    `[params]\nmail_domain = _sighup.test\nlisten_address = 127.0.0.1\ndata_dir = ${join(dir, "data")}\n` +
      `tls_mode = external\ntls_external_cert_and_key = ${certPath} ${keyPath}\n` +
      "smtp_port = 0\nsubmission_port = 0\nsubmissions_port = 0\nimap_port = 0\nimaps_port = 0\nhttps_port = 0\nhttp_port = 0\n",
  );
  const child = spawn(process.execPath, [BIN, "serve", "--config", ini], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  /** Resolves when the output (from `from` on) matches; fails if the child exits first. */
  const waitFor = async (re: RegExp, from = 0): Promise<string> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = re.exec(out.slice(from));
      if (m) return m[0];
      const more = new Promise<"more">((r) => waiters.push(() => r("more")));
      const timer = new Promise<"late">((r) =>
        setTimeout(r, Math.max(0, deadline - Date.now()), "late").unref(),
      );
      const why = await Promise.race([more, timer, exited.then(() => "exited" as const)]);
      if (why !== "more") throw new Error(`${why} waiting for ${re}: ${out}`);
    }
  };
  try {
    const line = await waitFor(/imaps 127\.0\.0\.1:\d+/);
    const port = Number(/:(\d+)$/.exec(line)![1]);
    const old = new X509Certificate(first.cert).fingerprint256;
    assert.equal(await fingerprint(port), old);

    writeFileSync(certPath, second.cert);
    writeFileSync(keyPath, "-----BEGIN PRIVATE KEY-----\ntruncated\n");
    let mark = out.length;
    child.kill("SIGHUP");
    await waitFor(/certificate reload failed/, mark);
    assert.equal(await fingerprint(port), old, "the old certificate stays");

    writeFileSync(keyPath, second.key);
    mark = out.length;
    child.kill("SIGHUP");
    await waitFor(/certificate reloaded/, mark);
    assert.equal(await fingerprint(port), new X509Certificate(second.cert).fingerprint256);
    assert.equal(child.exitCode, null, "still running");
  } finally {
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    rmSync(dir, { recursive: true, force: true });
  }
});
