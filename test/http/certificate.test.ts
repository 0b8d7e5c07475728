import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import tls from "node:tls";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { request, startHttp } from "./harness.ts";

function fingerprint(port: number, alpn?: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: "127.0.0.1",
        port,
        rejectUnauthorized: false,
        servername: "_chatrelay.test",
        ALPNProtocols: alpn,
      },
      () => {
        const fp = s.getPeerCertificate().fingerprint256;
        s.destroy();
        resolve(fp);
      },
    );
    s.on("error", reject);
  });
}

test("setCertificate serves a renewed certificate to new connections on every protocol", async () => {
  const h = await startHttp();
  try {
    const before = await fingerprint(h.httpsPort);
    const renewed = await selfSignedCertificate(["_chatrelay.test"], 1);
    h.service.setCertificate(renewed.key, renewed.cert);
    const after = await fingerprint(h.httpsPort);
    assert.notEqual(after, before);
    assert.equal(await fingerprint(h.httpsPort, ["imap"]), after);
    assert.equal(after, new X509Certificate(renewed.cert).fingerprint256);
    assert.equal((await request(h.httpsPort, { path: "/robots.txt" })).status, 200);
  } finally {
    await h.close();
  }
});
