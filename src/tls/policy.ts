/**
 * Server TLS policy shared by the client-facing listeners (993/143 IMAP,
 * 465/587 submission, 443 with its ALPN-routed IMAP and SMTP).
 *
 * The protocol floor comes from `tls_min_version_client` (TLS 1.3 by default,
 * as the reference requires on 993/465/587) or TLS 1.2 on 443 for browsers;
 * this file decides the cipher suites within those versions. Node's default
 * list ends in OpenSSL's "HIGH", which on TLS 1.2 still offers CBC suites
 * (ECDHE-ECDSA-AES128-SHA, the AES-SHA256/384 CBC suites: Lucky13-class
 * padding oracles), CCM8 (64-bit tags) and ARIA. On TLS 1.2 we offer only
 * ECDHE key exchange with AES-GCM (the ECDHE suites RFC 9325 §4.2 recommends)
 * and ChaCha20-Poly1305 (RFC 7905). TLS 1.3 suites are all AEAD
 * (RFC 8446 §9.1), listed explicitly so that the list is the whole policy.
 *
 * Port 25 keeps Node's defaults: an MX must interoperate with whatever the
 * sending MTA speaks, and the reference relay's Postfix only excludes
 * aNULL, RC4, MD5 and DES there (none of which Node offers).
 */
import type { SecureContextOptions } from "node:tls";

const TLS13_SUITES = ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"];

/** TLS 1.2: forward secrecy (ECDHE) and AEAD only; ECDSA first (the self-signed key is P-256). */
const TLS12_SUITES = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
];

export const TLS_CIPHERS = [...TLS13_SUITES, ...TLS12_SUITES].join(":");

/** Cipher options for a client-facing server context; combine with key, cert and minVersion. */
export const CLIENT_TLS_OPTIONS: Pick<SecureContextOptions, "ciphers" | "honorCipherOrder"> = {
  ciphers: TLS_CIPHERS,
  // the server's order wins (Postfix: tls_preempt_cipherlist = yes)
  honorCipherOrder: true,
};
