import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  dkimTxtRecord,
  dkimTxtZoneValue,
  generateDkimKey,
  loadOrCreateDkimKey,
  splitTxtRecord,
} from "../../src/dkim/keys.ts";

const dir = mkdtempSync(join(tmpdir(), "dkim-keys-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("generateDkimKey makes an RSA 2048 pair in PEM", async () => {
  const { privateKeyPem, publicKeyPem } = await generateDkimKey();
  assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  const key = createPrivateKey(privateKeyPem);
  assert.equal(key.asymmetricKeyType, "rsa");
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(
    createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
    publicKeyPem,
    "the public key belongs to the private key",
  );
});

test("loadOrCreateDkimKey creates the file (0600, folders made) and then reuses it", async () => {
  const path = join(dir, "a", "b", "opendkim.private");
  const first = await loadOrCreateDkimKey(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(readFileSync(path, "utf8"), first.privateKeyPem);
  const second = await loadOrCreateDkimKey(path);
  assert.deepEqual(second, first);
});

test("concurrent creation yields one key", async () => {
  const path = join(dir, "race", "key.pem");
  const pairs = await Promise.all([
    loadOrCreateDkimKey(path),
    loadOrCreateDkimKey(path),
    loadOrCreateDkimKey(path),
  ]);
  const onDisk = readFileSync(path, "utf8");
  for (const p of pairs) assert.equal(p.privateKeyPem, onDisk);
});

test("an OpenDKIM PKCS#1 key file is accepted", async () => {
  const { privateKeyPem, publicKeyPem } = await generateDkimKey();
  const pkcs1 = createPrivateKey(privateKeyPem).export({ type: "pkcs1", format: "pem" }).toString();
  assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
  const path = join(dir, "opendkim.private");
  writeFileSync(path, pkcs1, { mode: 0o600 });
  const loaded = await loadOrCreateDkimKey(path);
  assert.equal(loaded.privateKeyPem, pkcs1);
  assert.equal(loaded.publicKeyPem, publicKeyPem);
});

test("a file that is not a private key is an error, not overwritten", async () => {
  const path = join(dir, "garbage.pem");
  writeFileSync(path, "not a key");
  await assert.rejects(loadOrCreateDkimKey(path), /does not hold a PEM private key/);
  assert.equal(readFileSync(path, "utf8"), "not a key");
});

test("dkimTxtRecord: v=DKIM1;k=rsa;p=<SPKI base64>;s=email;t=s", async () => {
  const { publicKeyPem } = await generateDkimKey();
  const record = dkimTxtRecord(publicKeyPem);
  const m = /^v=DKIM1;k=rsa;p=([A-Za-z0-9+/=]+);s=email;t=s$/.exec(record);
  assert.ok(m, record);
  const der = Buffer.from(m[1] as string, "base64");
  const fromDns = createPublicKey({ key: der, format: "der", type: "spki" });
  assert.equal(fromDns.export({ type: "spki", format: "pem" }).toString(), publicKeyPem);
  const parts = splitTxtRecord(record);
  assert.ok(parts.length >= 2);
  assert.ok(parts.every((p) => p.length <= 255));
  assert.equal(parts[0]?.length, 255);
  assert.equal(parts.join(""), record);
  assert.equal(dkimTxtZoneValue(publicKeyPem), parts.map((p) => `"${p}"`).join(" "));
});

test("splitTxtRecord edge cases", () => {
  assert.deepEqual(splitTxtRecord(""), [""]);
  assert.deepEqual(splitTxtRecord("a".repeat(255)), ["a".repeat(255)]);
  assert.deepEqual(splitTxtRecord("a".repeat(256)), ["a".repeat(255), "a"]);
});
