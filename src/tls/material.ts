/**
 * The relay's certificate and key, by TLS mode (docs/reference-relay.md §5.6):
 * - self: generated once into <data_dir>/tls/ (EC P-256, SANs <d>, www.<d>, mta-sts.<d>);
 * - external: the operator's files from tls_external_cert_and_key;
 * - acme: the certificate the built-in ACME client stored (acme.ts), or until
 *   it has one a temporary self-signed certificate, kept in memory only, so that
 *   ports 80 and 443 can answer the ACME challenges.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { isIpDomain } from "../config/domain.ts";
import type { Config } from "../config/types.ts";
import { acmeCertificatePaths, readStoredCertificate } from "./acme-files.ts";
import { type KeyAndCert, selfSignedCertificate } from "./selfsigned.ts";

export class StartupError extends Error {}

async function readPair(certPath: string, keyPath: string): Promise<KeyAndCert | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
    return { cert, key };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export function certificateNames(mailDomain: string): string[] {
  if (isIpDomain(mailDomain)) return [mailDomain];
  return [mailDomain, `www.${mailDomain}`, `mta-sts.${mailDomain}`];
}

export async function loadTlsMaterial(config: Config): Promise<KeyAndCert> {
  if (config.tls_mode === "external") {
    const [certPath, keyPath] = config.tls_external_cert_and_key.split(/\s+/);
    if (!certPath || !keyPath)
      throw new StartupError('tls_external_cert_and_key must be "CERT_PATH KEY_PATH"');
    try {
      const pair = await readPair(certPath, keyPath);
      if (!pair) throw new Error("file not found");
      // files that are there but hold no usable pair: said here, in one line, not
      // by OpenSSL when a listener starts (or, at a reload, after some listeners took it)
      createSecureContext({ cert: pair.cert, key: pair.key });
      return pair;
    } catch (e) {
      const why = (e as Error).message.replace(/\s+/g, " ");
      throw new StartupError(`cannot read certificate ${certPath} / key ${keyPath}: ${why}`);
    }
  }
  if (config.tls_mode === "acme")
    return (
      (await readStoredCertificate(config.data_dir)) ??
      (await selfSignedCertificate(certificateNames(config.mail_domain), 1))
    );
  const dir = join(config.data_dir, "tls");
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  const existing = await readPair(certPath, keyPath);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = await selfSignedCertificate(certificateNames(config.mail_domain));
  // 0600 whatever the umask; "w" after unlink, so a leftover .tmp with a looser mode is not reused.
  for (const [path, pem] of [
    [`${keyPath}.tmp`, pair.key],
    [`${certPath}.tmp`, pair.cert],
  ] as const) {
    await rm(path, { force: true });
    await writeFile(path, pem, { mode: 0o600, flag: "wx" });
  }
  await rename(`${keyPath}.tmp`, keyPath);
  await rename(`${certPath}.tmp`, certPath);
  return pair;
}

/** The file holding the certificate chain the relay serves in its TLS mode (read by `chatrelay status`). */
export function certificatePath(config: Config): string {
  if (config.tls_mode === "external") return config.tls_external_cert_and_key.split(/\s+/)[0] ?? "";
  if (config.tls_mode === "acme") return acmeCertificatePaths(config.data_dir).cert;
  return join(config.data_dir, "tls", "cert.pem");
}
