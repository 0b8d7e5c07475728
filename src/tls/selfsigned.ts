/**
 * Self-signed certificates for "self" TLS mode (domains starting with "_", IP
 * relays, the embedded default) and for tests. docs/reference-relay.md §5.6: EC P-256, SANs
 * <d>, www.<d>, mta-sts.<d>, long validity.
 */
import { isIP } from "node:net";
import type { generate } from "selfsigned";

export interface KeyAndCert {
  key: string;
  cert: string;
}

export async function selfSignedCertificate(names: string[], years = 100): Promise<KeyAndCert> {
  const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + years * 365 * 24 * 3600 * 1000);
  const altNames = names.map((n) => {
    const bare = n.replace(/^\[|\]$/g, "");
    return isIP(bare) ? { type: 7 as const, ip: bare } : { type: 2 as const, value: n };
  });
  // loaded only when a certificate is made (the first start), not on every start
  const selfsigned = await import("selfsigned");
  const pems = await selfsigned.generate([{ name: "commonName", value: names[0] ?? "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert };
}
