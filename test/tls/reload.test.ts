import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { startTestRelay } from "../support/relay.ts";
import { fingerprint } from "../support/tls.ts";

test("external certificate files: used, and reloaded on demand on every listener", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-tls-"));
  const [first, second] = await Promise.all([
    selfSignedCertificate(["chat.example"]),
    selfSignedCertificate(["chat.example"]),
  ]);
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  writeFileSync(certPath, first.cert);
  writeFileSync(keyPath, first.key);
  const r = await startTestRelay({
    mail_domain: "chat.example",
    tls_mode: "external",
    tls_external_cert_and_key: `${certPath} ${keyPath}`,
  });
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
