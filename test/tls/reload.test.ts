import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { externalCertificateRelay, fingerprint } from "../support/tls.ts";

test("external certificate files: used, and reloaded on demand on every listener", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-tls-"));
  const { r, first, second, certPath, keyPath } = await externalCertificateRelay(dir);
  try {
    const ports = [r.imapsPort, r.submissionsPort, r.httpsPort];
    const before = await Promise.all(ports.map((p) => fingerprint(p)));
    const expected = new X509Certificate(first.cert).fingerprint256;
    assert.deepEqual(before, [expected, expected, expected]);
    writeFileSync(certPath, second.cert);
    writeFileSync(keyPath, second.key);
    await r.relay.reloadCertificate();
    const after = await Promise.all(ports.map((p) => fingerprint(p)));
    const renewed = new X509Certificate(second.cert).fingerprint256;
    assert.deepEqual(after, [renewed, renewed, renewed]);
  } finally {
    await r.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
