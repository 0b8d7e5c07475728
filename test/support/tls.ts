/** TLS for tests: one self-signed certificate per process, and the certificate a listener shows. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { certificateNames } from "../../src/tls/material.ts";
import { type KeyAndCert, selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { startTestRelay } from "./relay.ts";

let certificate: Promise<KeyAndCert> | undefined;

/** A self-signed certificate for `_chatrelay.test` (with its www. and mta-sts. names) and 127.0.0.1. */
export function testCertificate(): Promise<KeyAndCert> {
  certificate ??= selfSignedCertificate([...certificateNames("_chatrelay.test"), "127.0.0.1"]);
  return certificate;
}

/** The SHA-256 fingerprint of the certificate a TLS listener on 127.0.0.1:`port` presents. */
export function fingerprint(
  port: number,
  opts: { servername?: string; alpn?: string[] } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: "127.0.0.1",
        port,
        rejectUnauthorized: false,
        servername: opts.servername,
        ALPNProtocols: opts.alpn,
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

/**
 * A relay on external certificate files (`chat.example`) in `dir`, with two
 * certificates for it: `first` is in the files, `second` is for a reload.
 */
export async function externalCertificateRelay(dir: string) {
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
  return { r, first, second, certPath, keyPath };
}
