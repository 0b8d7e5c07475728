import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { fingerprint } from "../support/tls.ts";
import { request, startHttp } from "./harness.ts";

test("setCertificate serves a renewed certificate to new connections on every protocol", async () => {
  const h = await startHttp();
  try {
    const before = await fingerprint(h.httpsPort, { servername: "_chatrelay.test" });
    const renewed = await selfSignedCertificate(["_chatrelay.test"], 1);
    h.service.setCertificate(renewed.key, renewed.cert);
    const after = await fingerprint(h.httpsPort, { servername: "_chatrelay.test" });
    assert.notEqual(after, before);
    assert.equal(await fingerprint(h.httpsPort, { servername: "_chatrelay.test", alpn: ["imap"] }), after);
    assert.equal(after, new X509Certificate(renewed.cert).fingerprint256);
    assert.equal((await request(h.httpsPort, { path: "/robots.txt" })).status, 200);
  } finally {
    await h.close();
  }
});
