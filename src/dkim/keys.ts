/**
 * The relay's DKIM key: an RSA 2048 key pair kept as PEM (as `opendkim-genkey` makes), and the
 * TXT record published at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.1).
 */
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface DkimKeyPair {
  /** PKCS#8 PEM (PKCS#1 "RSA PRIVATE KEY" files from OpenDKIM are accepted when loading). */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
}

export async function generateDkimKey(): Promise<DkimKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      "rsa",
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
      },
      (err, publicKeyPem, privateKeyPem) => {
        if (err) reject(err);
        else resolve({ privateKeyPem, publicKeyPem });
      },
    );
  });
}

function pairFromPrivatePem(privateKeyPem: string, path: string): DkimKeyPair {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new Error(`DKIM key file ${path} does not hold a PEM private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(`DKIM key file ${path} holds a ${key.asymmetricKeyType} key, expected RSA`);
  }
  const publicKeyPem = createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
  return { privateKeyPem, publicKeyPem };
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * Reads the private key at `path`, or creates one there (mode 0600, folders created as
 * needed). Creation is atomic: the file appears complete or not at all, and a concurrent
 * creator's key wins over ours.
 */
export async function loadOrCreateDkimKey(path: string): Promise<DkimKeyPair> {
  try {
    return pairFromPrivatePem(await readFile(path, "utf8"), path);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
  const pair = await generateDkimKey();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
  try {
    await link(tmp, path);
  } catch (err) {
    if (isCode(err, "EEXIST")) return pairFromPrivatePem(await readFile(path, "utf8"), path);
    // Filesystems without hard links: exclusive create (not atomic, but never overwrites).
    await writeFile(path, pair.privateKeyPem, { mode: 0o600, flag: "wx" });
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return pair;
}

/** Base64 of the DER SubjectPublicKeyInfo, the `p=` value (RFC 6376 §3.6.1). */
export function publicKeyBase64(publicKeyPem: string): string {
  return createPublicKey(publicKeyPem).export({ type: "spki", format: "der" }).toString("base64");
}

/** The record text, in the form chatmail's `cmdeploy dns` shows. */
export function dkimTxtRecord(publicKeyPem: string): string {
  return `v=DKIM1;k=rsa;p=${publicKeyBase64(publicKeyPem)};s=email;t=s`;
}

/** RFC 1035 §3.3.14: a TXT record is made of strings of at most 255 bytes. */
export function splitTxtRecord(record: string, size = 255): string[] {
  const out: string[] = [];
  for (let i = 0; i < record.length; i += size) out.push(record.slice(i, i + size));
  return out.length > 0 ? out : [""];
}

/** The record as a zone-file value: `"part1" "part2"`. */
export function dkimTxtZoneValue(publicKeyPem: string): string {
  return splitTxtRecord(dkimTxtRecord(publicKeyPem))
    .map((s) => `"${s}"`)
    .join(" ");
}
