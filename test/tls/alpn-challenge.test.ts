/**
 * TLS-ALPN-01 on the relay's 443 listener (RFC 8737): while a challenge for a
 * name is pending, an "acme-tls/1" handshake for that name gets the challenge
 * certificate and the connection ends (TLS 1.3; a TLS 1.2 offer is refused,
 * see src/tls/alpn-challenge.ts); every other handshake keeps the relay's certificate.
 */
import assert from "node:assert/strict";
import type { X509Certificate } from "node:crypto";
import { test } from "node:test";
import tls from "node:tls";
import acme from "acme-client";
import { newEcKey } from "../../src/tls/acme-files.ts";
import { startTestRelay } from "../support/relay.ts";

const DOMAIN = "chat.example";

interface Outcome {
  alpn: string | false | null;
  cert: X509Certificate;
  /** The server ended the connection by itself. */
  ended: boolean;
}

function connect(
  port: number,
  servername: string,
  alpn: string,
  version: tls.SecureVersion,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: "127.0.0.1",
        port,
        servername,
        ALPNProtocols: [alpn],
        rejectUnauthorized: false,
        minVersion: version,
        maxVersion: version,
      },
      () => {
        const cert = s.getPeerX509Certificate();
        if (!cert) return reject(new Error("no certificate"));
        const timer = setTimeout(() => {
          s.destroy();
          resolve({ alpn: s.alpnProtocol, cert, ended: false });
        }, 300);
        s.once("end", () => {
          clearTimeout(timer);
          s.destroy();
          resolve({ alpn: s.alpnProtocol, cert, ended: true });
        });
        s.resume();
      },
    );
    s.on("error", reject);
  });
}

test("443 answers a pending TLS-ALPN-01 challenge and nothing else with its certificate", async () => {
  const r = await startTestRelay({ mail_domain: DOMAIN, tls_mode: "self" });
  try {
    const port = r.httpsPort;
    const normal = (await connect(port, DOMAIN, "http/1.1", "TLSv1.3")).cert.fingerprint256;
    const keyAuthorization = "token.thumbprint";
    const authz = { identifier: { type: "dns", value: DOMAIN } } as unknown as acme.Authorization;
    const [key, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, newEcKey());
    r.relay.parts.http.acmeTls.set(DOMAIN, key.toString(), cert.toString());

    const got = await connect(port, DOMAIN, "acme-tls/1", "TLSv1.3");
    assert.equal(got.alpn, "acme-tls/1");
    assert.ok(acme.crypto.isAlpnCertificateAuthorizationValid(got.cert.toString(), keyAuthorization));
    assert.equal(got.ended, true, "the connection ends after the handshake");
    // TLS 1.2 chooses the certificate before it sees the ALPN offer: refused
    await assert.rejects(connect(port, DOMAIN, "acme-tls/1", "TLSv1.2"), /no.application.protocol/i);
    // other protocols for the same name and other names keep the relay's certificate
    for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
      for (const name of [DOMAIN, `www.${DOMAIN}`]) {
        const other = await connect(port, name, "http/1.1", version);
        assert.equal(other.cert.fingerprint256, normal, `${version} ${name}`);
        assert.equal(other.alpn, "http/1.1");
      }
    }

    r.relay.parts.http.acmeTls.delete(DOMAIN);
    // refused (the alert may be lost when the listener closes the socket at once)
    await assert.rejects(
      connect(port, DOMAIN, "acme-tls/1", "TLSv1.3"),
      /no.application.protocol|disconnected/i,
    );
    assert.equal((await connect(port, DOMAIN, "http/1.1", "TLSv1.2")).cert.fingerprint256, normal);
  } finally {
    await r.close();
  }
});
