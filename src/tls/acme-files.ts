/**
 * What the built-in ACME client keeps in `<data_dir>/acme/` (0700, files 0600):
 * - account.key: the ACME account's key (EC P-256), made once;
 * - account.json: `{ directory, url }`, the account URL at that directory
 *   (for a CAA `accounturi`, RFC 8657 §3);
 * - cert.pem / key.pem: the certificate chain and its key (EC P-256, a new key
 *   for every certificate).
 * Writes go through a temporary file and a rename, so a crash never leaves half a file.
 */
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { KeyAndCert } from "./selfsigned.ts";

export function acmeDir(dataDir: string): string {
  return join(dataDir, "acme");
}

/** Paths of the certificate chain and key the ACME client maintains. */
export function acmeCertificatePaths(dataDir: string): { cert: string; key: string } {
  return { cert: join(acmeDir(dataDir), "cert.pem"), key: join(acmeDir(dataDir), "key.pem") };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Writes files of one folder as a set: each to a .tmp (0600 whatever the umask), then renamed. */
async function writePrivate(dir: string, files: Array<[name: string, content: string]>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, content] of files) {
    const tmp = join(dir, `${name}.tmp`);
    // "wx" after unlink: a leftover .tmp with a looser mode is never reused
    await rm(tmp, { force: true });
    await writeFile(tmp, content, { mode: 0o600, flag: "wx" });
  }
  for (const [name] of files) await rename(join(dir, `${name}.tmp`), join(dir, name));
}

export function newEcKey(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export async function readOrCreateAccountKey(dataDir: string): Promise<string> {
  const path = join(acmeDir(dataDir), "account.key");
  const existing = await readOptional(path);
  if (existing) return existing;
  const key = newEcKey();
  await writePrivate(acmeDir(dataDir), [["account.key", key]]);
  return key;
}

/** The stored account URL, if it belongs to `directory`. */
export async function readAccountUrl(dataDir: string, directory: string): Promise<string | undefined> {
  const text = await readOptional(join(acmeDir(dataDir), "account.json"));
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as { directory?: unknown; url?: unknown };
    return v.directory === directory && typeof v.url === "string" ? v.url : undefined;
  } catch {
    return undefined;
  }
}

export async function writeAccountUrl(dataDir: string, directory: string, url: string): Promise<void> {
  await writePrivate(acmeDir(dataDir), [["account.json", `${JSON.stringify({ directory, url })}\n`]]);
}

export async function readStoredCertificate(dataDir: string): Promise<KeyAndCert | undefined> {
  const paths = acmeCertificatePaths(dataDir);
  const [cert, key] = await Promise.all([readOptional(paths.cert), readOptional(paths.key)]);
  return cert && key ? { cert, key } : undefined;
}

/** Key first, then certificate: a reader that finds the new certificate also finds its key. */
export async function writeStoredCertificate(dataDir: string, pair: KeyAndCert): Promise<void> {
  await writePrivate(acmeDir(dataDir), [
    ["key.pem", pair.key],
    ["cert.pem", pair.cert],
  ]);
}

export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  serial: string;
  /** Every name of `names` is covered by the leaf certificate. */
  covers: boolean;
}

/** Facts about the first (leaf) certificate of a PEM chain; undefined if it does not parse. */
export function certificateFacts(chainPem: string, names: string[]): CertificateFacts | undefined {
  try {
    const leaf = new X509Certificate(chainPem);
    return {
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      serial: leaf.serialNumber,
      covers: names.every((n) => leaf.checkHost(n, { wildcards: false }) !== undefined),
    };
  } catch {
    return undefined;
  }
}
