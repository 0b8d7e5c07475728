/**
 * External certificate files that cannot be used: at start-up one clear
 * StartupError line; at a reload the reload fails and the old certificate stays
 * on every listener. After a good reload, STARTTLS on 143 and 587 (RFC 3207,
 * RFC 3501 §6.2.1) shows the new certificate too.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import tls from "node:tls";
import { StartupError } from "../../src/relay.ts";
import { startTestRelay } from "../support/relay.ts";
import { externalCertificateRelay, fingerprint } from "../support/tls.ts";

const dir = mkdtempSync(join(tmpdir(), "chatrelay-tls-fail-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The certificate shown after STARTTLS: `imap` or `smtp` dialogue on 127.0.0.1:`port`. */
function starttlsFingerprint(port: number, proto: "imap" | "smtp"): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, "127.0.0.1");
    raw.setEncoding("utf8");
    raw.on("error", reject);
    let buf = "";
    let step = 0;
    raw.on("data", (d: string) => {
      buf += d;
      if (!buf.endsWith("\r\n")) return;
      const last = buf.trimEnd().split("\r\n").at(-1) ?? "";
      buf = "";
      if (step === 0) raw.write(proto === "imap" ? "a STARTTLS\r\n" : "EHLO client.example\r\n");
      else if (proto === "smtp" && step === 1) {
        if (!/^250 /.test(last)) return;
        raw.write("STARTTLS\r\n");
      } else {
        if (!/^(a OK|220 )/.test(last)) return reject(new Error(last));
        raw.removeAllListeners("data");
        const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.destroy();
        });
        s.on("error", reject);
        return;
      }
      step++;
    });
  });
}

test("unreadable certificate files at start-up: one StartupError line", async () => {
  const folder = join(dir, "a-folder");
  mkdirSync(folder);
  for (const files of [`${join(dir, "missing.pem")} ${join(dir, "missing.key")}`, `${folder} ${folder}`]) {
    await assert.rejects(
      startTestRelay({ tls_mode: "external", tls_external_cert_and_key: files, data_dir: join(dir, "data") }),
      (e: unknown) => {
        assert.ok(e instanceof StartupError, String(e));
        assert.match(e.message, /^cannot read certificate /);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      },
    );
  }
  // files that are there but hold no certificate
  writeFileSync(join(dir, "junk.pem"), "not a certificate\n");
  await assert.rejects(
    startTestRelay({
      tls_mode: "external",
      tls_external_cert_and_key: `${join(dir, "junk.pem")} ${join(dir, "junk.pem")}`,
      data_dir: join(dir, "data"),
    }),
    (e: unknown) => e instanceof StartupError && !e.message.includes("\n"),
  );
});

test("a failing reload keeps the old certificate; a good one reaches STARTTLS on 143 and 587", async () => {
  const { r, first, second, certPath, keyPath } = await externalCertificateRelay(dir);
  try {
    const shown = () =>
      Promise.all([
        fingerprint(r.imapsPort),
        fingerprint(r.submissionsPort),
        fingerprint(r.httpsPort),
        starttlsFingerprint(r.imapPort, "imap"),
        starttlsFingerprint(r.submissionPort, "smtp"),
      ]);
    const old = new X509Certificate(first.cert).fingerprint256;
    assert.deepEqual(await shown(), [old, old, old, old, old]);

    // a renewal caught half-written: the key does not parse
    writeFileSync(certPath, second.cert);
    writeFileSync(keyPath, "-----BEGIN PRIVATE KEY-----\ntruncated\n");
    await assert.rejects(r.relay.reloadCertificate());
    assert.deepEqual(await shown(), [old, old, old, old, old], "the old certificate stays everywhere");

    writeFileSync(keyPath, second.key);
    await r.relay.reloadCertificate();
    const renewed = new X509Certificate(second.cert).fingerprint256;
    assert.deepEqual(await shown(), [renewed, renewed, renewed, renewed, renewed]);
  } finally {
    await r.close();
  }
});
