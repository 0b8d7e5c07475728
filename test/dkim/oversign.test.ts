/**
 * Oversigning (RFC 6376 §5.4.2, §8.15), the reason outgoing mail is signed by
 * src/dkim/sign.ts and not by mailauth's signer: a field that h= names once more than
 * the message has it cannot be added after signing, not even above the signed instance,
 * which is the instance a verifier would otherwise skip. The reference relay's OpenDKIM
 * oversigns From, Subject, Autocrypt and others (chatmail/relay
 * cmdeploy/src/cmdeploy/opendkim/opendkim.conf, OversignHeaders); mailauth's signer puts
 * only the fields present into h=, whatever headerList asks.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { DKIMSignOptions } from "mailauth";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import type { DkimKeyPair } from "../../src/dkim/keys.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { verifyAligned } from "../../src/dkim/verify.ts";
import { NO_VALID, publishedKey, type TxtResolver } from "../support/dkim.ts";

const DOMAIN = "example.org";

let key: DkimKeyPair;
let resolver: TxtResolver;
before(async () => {
  ({ key, resolver } = await publishedKey());
});

const MESSAGE = Buffer.from(
  "From: Alice <alice@example.org>\r\nTo: bob@other.test\r\nSubject: [...]\r\n" +
    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n" +
    "Autocrypt: addr=alice@example.org; prefer-encrypt=mutual; keydata=xsBNBGF\r\n" +
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n",
);

/** Fields an attacker on the path would add above everything, where verifiers look last. */
const ADDED = [
  "From: Mallory <mallory@example.org>\r\n",
  "Subject: urgent\r\n",
  "Autocrypt: addr=alice@example.org; keydata=bWFsbG9yeQ==\r\n",
  "Reply-To: mallory@example.org\r\n",
];

function hTag(signed: Buffer): string[] {
  const field = /^DKIM-Signature:(.*?)\r\n(?![ \t])/is.exec(signed.toString("latin1"))?.[1] ?? "";
  return (/(?:^|;)\s*h=([^;]*)/.exec(field)?.[1] ?? "").replace(/\s+/g, "").toLowerCase().split(":");
}

test("ours: a field added above the signed one breaks the signature", async () => {
  const signed = await signMessage(MESSAGE, {
    domain: DOMAIN,
    selector: "sel",
    privateKeyPem: key.privateKeyPem,
  });
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver), { ok: true });
  for (const added of ADDED) {
    const forged = Buffer.concat([Buffer.from(added), signed]);
    assert.deepEqual(await verifyAligned(forged, DOMAIN, resolver), NO_VALID, added);
  }
});

test("mailauth's signer lists each field once, so the same additions still verify", async () => {
  const { signatures, errors } = await dkimSign(MESSAGE, {
    canonicalization: "relaxed/simple",
    algorithm: "rsa-sha256",
    // asked to oversign; a string, as its code reads it (an array selects its default list)
    headerList: "from:from:subject:subject:autocrypt:autocrypt:reply-to:to:date" as unknown as string[],
    signatureData: [{ signingDomain: DOMAIN, selector: "sel", privateKey: key.privateKeyPem }],
  } as DKIMSignOptions);
  assert.deepEqual(errors, []);
  const signed = Buffer.concat([Buffer.from(signatures), MESSAGE]);
  assert.deepEqual(hTag(signed).sort(), ["autocrypt", "date", "from", "subject", "to"]);
  for (const added of ADDED) {
    const forged = Buffer.concat([Buffer.from(added), signed]);
    assert.deepEqual(await verifyAligned(forged, DOMAIN, resolver), { ok: true }, added);
  }
});
