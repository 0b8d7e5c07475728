/** TLS for tests: one self-signed certificate per process, and the certificate a listener shows. */
import tls from "node:tls";
import { certificateNames } from "../../src/tls/material.ts";
import { type KeyAndCert, selfSignedCertificate } from "../../src/tls/selfsigned.ts";

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
