import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import type { DKIMSignOptions } from "mailauth";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { DkimKeyCache } from "../../src/dkim/key-cache.ts";
import { type DkimKeyPair, dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";
import { DkimSignError, signMessage } from "../../src/dkim/sign.ts";
import { verifyAligned } from "../../src/dkim/verify.ts";
import { createResolver } from "../../src/dns/resolver.ts";
import { NO_VALID } from "../support/dkim.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";

const DOMAIN = "example.org";
const SELECTOR = "opendkim";
const NO_SIG = { ok: false, code: 554, text: "5.7.1 No DKIM signature found" };

let dns: DnsServer;
let key: DkimKeyPair;
let otherKey: DkimKeyPair;

before(async () => {
  [key, otherKey] = await Promise.all([generateDkimKey(), generateDkimKey()]);
  dns = await startDnsServer({
    [`${SELECTOR}._domainkey.${DOMAIN}`]: { TXT: [dkimTxtRecord(key.publicKeyPem)] },
    [`${SELECTOR}._domainkey.other.test`]: { TXT: [dkimTxtRecord(otherKey.publicKeyPem)] },
    // A second selector of example.org that publishes the other key.
    [`rotated._domainkey.${DOMAIN}`]: { TXT: [dkimTxtRecord(otherKey.publicKeyPem)] },
  });
});

after(async () => {
  await dns.close();
});

function resolver() {
  return createResolver([dns.address], { timeoutMs: 3000 });
}

function message(extraHeaders = "", body = "Hello,\r\nworld\r\n"): Buffer {
  return Buffer.from(
    "From: Alice <alice@example.org>\r\n" +
      "To: bob@other.test\r\n" +
      "Subject: [...]\r\n" +
      "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n" +
      "Message-ID: <m1@example.org>\r\n" +
      "Chat-Version: 1.0\r\n" +
      "Autocrypt: addr=alice@example.org; prefer-encrypt=mutual; keydata=xsBNBGF\r\n" +
      " AAAABBBB\r\n" +
      "MIME-Version: 1.0\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      extraHeaders +
      "\r\n" +
      body,
  );
}

async function sign(msg: Buffer, domain = DOMAIN, pair = key, selector = SELECTOR): Promise<Buffer> {
  return signMessage(msg, { domain, selector, privateKeyPem: pair.privateKeyPem });
}

function signatureTags(signed: Buffer): Map<string, string> {
  const field = /^DKIM-Signature:(.*?)\r\n(?![ \t])/s.exec(signed.toString("latin1"));
  assert.ok(field, "message starts with a DKIM-Signature field");
  const tags = new Map<string, string>();
  for (const part of (field[1] as string).split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) tags.set(part.slice(0, eq).trim(), part.slice(eq + 1).replace(/\s+/g, ""));
  }
  return tags;
}

/** Replaces the first occurrence of `from` in the signed message (which must contain it). */
function tamper(signed: Buffer, from: string, to: string): Buffer {
  const text = signed.toString("latin1");
  assert.ok(text.includes(from), `message contains ${JSON.stringify(from)}`);
  return Buffer.from(text.replace(from, to), "latin1");
}

test("a signed message verifies and is aligned with the From domain", async () => {
  const signed = await sign(message());
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), { ok: true });
  assert.deepEqual(await verifyAligned(signed, "Example.ORG", resolver()), { ok: true });
  assert.ok(
    signed.subarray(signed.length - message().length).equals(message()),
    "original follows the field",
  );
});

test("signature tags: rsa-sha256, relaxed/simple, d=, s=, t=, bh=, b=", async () => {
  const before = Math.floor(Date.now() / 1000);
  const tags = signatureTags(await sign(message(), "Example.Org"));
  assert.equal(tags.get("v"), "1");
  assert.equal(tags.get("a"), "rsa-sha256");
  assert.equal(tags.get("c"), "relaxed/simple");
  assert.equal(tags.get("d"), "example.org");
  assert.equal(tags.get("s"), SELECTOR);
  assert.ok(Number(tags.get("t")) >= before);
  assert.match(tags.get("bh") ?? "", /^[A-Za-z0-9+/]{43}=$/);
  assert.match(tags.get("b") ?? "", /^[A-Za-z0-9+/]{342}==$/);
});

test("h= signs the usual fields plus Autocrypt and Content-Type, and oversigns", async () => {
  const h = (
    signatureTags(await sign(message("Reply-To: r@example.org\r\nReceived: x\r\n"))).get("h") ?? ""
  ).split(":");
  const count = (name: string) => h.filter((n) => n === name).length;
  for (const name of [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "autocrypt",
    "content-type",
    "mime-version",
  ]) {
    assert.ok(count(name) >= 1, `${name} is signed`);
  }
  assert.ok(count("chat-version") >= 1, "chat-version is signed");
  // Oversigning: each listed once more than it occurs, absent ones once.
  for (const name of ["from", "subject", "date", "to", "autocrypt", "reply-to"])
    assert.equal(count(name), 2, name);
  for (const name of ["cc", "in-reply-to", "references"]) assert.equal(count(name), 1, name);
  assert.equal(count("received"), 0);
  assert.equal(count("message-id"), 1, "message-id is signed, not oversigned");
});

test("unsigned message: No DKIM signature found", async () => {
  assert.deepEqual(await verifyAligned(message(), DOMAIN, resolver()), NO_SIG);
});

test("signed by another domain (misaligned): No valid DKIM signature found", async () => {
  const signed = await sign(message(), "other.test", otherKey);
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), NO_VALID);
  // The same signature is valid for its own domain: only alignment failed.
  assert.deepEqual(await verifyAligned(signed, "other.test", resolver()), { ok: true });
});

test("a subdomain's signature is not aligned (strict)", async () => {
  dns.zone.set(`${SELECTOR}._domainkey.sub.${DOMAIN}`, { TXT: [dkimTxtRecord(key.publicKeyPem)] });
  const signed = await sign(message(), `sub.${DOMAIN}`);
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), NO_VALID);
  assert.deepEqual(await verifyAligned(signed, `sub.${DOMAIN}`, resolver()), { ok: true });
});

test("tampered body: No valid DKIM signature found", async () => {
  const signed = await sign(message());
  assert.deepEqual(await verifyAligned(tamper(signed, "world", "World"), DOMAIN, resolver()), NO_VALID);
  // Simple body canonicalization: whitespace inside the body matters too.
  assert.deepEqual(
    await verifyAligned(tamper(signed, "Hello,\r\n", "Hello, \r\n"), DOMAIN, resolver()),
    NO_VALID,
  );
});

test("tampered header: No valid DKIM signature found", async () => {
  const signed = await sign(message());
  assert.deepEqual(
    await verifyAligned(tamper(signed, "Subject: [...]", "Subject: hi"), DOMAIN, resolver()),
    NO_VALID,
  );
  assert.deepEqual(
    await verifyAligned(tamper(signed, "keydata=xsBNBGF", "keydata=xsBNBGG"), DOMAIN, resolver()),
    NO_VALID,
  );
});

test("oversigning: an added From or Subject breaks the signature", async () => {
  const signed = await sign(message());
  const text = signed.toString("latin1");
  const at = text.indexOf("\r\n\r\n") + 2;
  for (const added of [
    "From: Mallory <mallory@example.org>\r\n",
    "Subject: urgent\r\n",
    "Cc: eve@x.test\r\n",
  ]) {
    const forged = Buffer.from(text.slice(0, at) + added + text.slice(at), "latin1");
    assert.deepEqual(await verifyAligned(forged, DOMAIN, resolver()), NO_VALID, added);
  }
});

test("changes that relaxed/simple tolerates still verify", async () => {
  const signed = await sign(message());
  const tolerated = [
    tamper(signed, "Subject: [...]", "Subject:   [...]  "),
    tamper(signed, "To: bob@other.test", "TO: bob@other.test"),
    tamper(signed, "MIME-Version: 1.0", "MIME-Version:\r\n 1.0"),
    Buffer.concat([Buffer.from("Received: from a by b\r\n"), signed]),
    Buffer.concat([signed, Buffer.from("\r\n\r\n")]),
  ];
  for (const msg of tolerated) assert.deepEqual(await verifyAligned(msg, DOMAIN, resolver()), { ok: true });
});

test("unparsable header section: 500 Failed to parse message headers", async () => {
  const bad = Buffer.from("DKIM-Signature: v=1\r\nthis line has no colon\r\n\r\nbody\r\n");
  assert.deepEqual(await verifyAligned(bad, DOMAIN, resolver()), {
    ok: false,
    code: 500,
    text: "Failed to parse message headers",
  });
  assert.equal((await verifyAligned(Buffer.from(" x\r\n\r\n"), DOMAIN, resolver())).ok, false);
});

test("a garbage DKIM-Signature field counts as present but not valid", async () => {
  const msg = Buffer.concat([Buffer.from("DKIM-Signature: this is not a signature\r\n"), message()]);
  assert.deepEqual(await verifyAligned(msg, DOMAIN, resolver()), NO_VALID);
});

test("key missing, wrong key, or DNS failure: No valid DKIM signature found", async () => {
  const missing = await sign(message(), DOMAIN, key, "nosuchselector");
  assert.deepEqual(await verifyAligned(missing, DOMAIN, resolver()), NO_VALID);
  const wrongKey = await sign(message(), DOMAIN, key, "rotated");
  assert.deepEqual(await verifyAligned(wrongKey, DOMAIN, resolver()), NO_VALID);
  const name = `${SELECTOR}._domainkey.${DOMAIN}`;
  dns.servfail.add(name);
  try {
    assert.deepEqual(await verifyAligned(await sign(message()), DOMAIN, resolver()), NO_VALID);
  } finally {
    dns.servfail.delete(name);
  }
});

test("one aligned pass among failing signatures is enough", async () => {
  const good = await sign(message());
  const both = await sign(good, "other.test", otherKey);
  const withBroken = Buffer.concat([
    Buffer.from("DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=opendkim; h=from; bh=AAAA; b=AAAA\r\n"),
    both,
  ]);
  assert.deepEqual(await verifyAligned(withBroken, DOMAIN, resolver()), { ok: true });
});

test("keys of other domains are not looked up", async () => {
  const signed = await sign(message(), "other.test", otherKey);
  const before = dns.queries.length;
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), NO_VALID);
  assert.equal(dns.queries.length, before);
});

test("bare LF line ends are signed as CRLF", async () => {
  const lf = Buffer.from(message().toString("latin1").replaceAll("\r\n", "\n"), "latin1");
  const signed = await sign(lf);
  assert.ok(!/[^\r]\n/.test(signed.toString("latin1")), "result has CRLF line ends only");
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), { ok: true });
  // Verification also reads bare LF as CRLF.
  const backToLf = Buffer.from(signed.toString("latin1").replaceAll("\r\n", "\n"), "latin1");
  assert.deepEqual(await verifyAligned(backToLf, DOMAIN, resolver()), { ok: true });
});

test("multi-megabyte message signs and verifies", async () => {
  const line = `${"0123456789abcdef".repeat(4)}\r\n`;
  const body = line.repeat(Math.ceil((6 * 1024 * 1024) / line.length));
  const msg = message("", body);
  const signed = await sign(msg);
  assert.ok(signed.length > msg.length && signed.length < msg.length + 2000);
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), { ok: true });
  const flipped = Buffer.from(signed);
  flipped[flipped.length - 100] = 0x21;
  assert.deepEqual(await verifyAligned(flipped, DOMAIN, resolver()), NO_VALID);
});

test("signing rejects unusable input", async () => {
  await assert.rejects(sign(Buffer.from("no header section at all")), DkimSignError);
  await assert.rejects(
    signMessage(message(), {
      domain: "bad domain;x=1",
      selector: SELECTOR,
      privateKeyPem: key.privateKeyPem,
    }),
    DkimSignError,
  );
  await assert.rejects(
    signMessage(message(), { domain: DOMAIN, selector: SELECTOR, privateKeyPem: "nope" }),
    DkimSignError,
  );
});

test("key cache: one lookup for repeated verifications, dropped after a failure", async () => {
  const name = `${SELECTOR}._domainkey.${DOMAIN}`;
  const cache = new DkimKeyCache(resolver());
  const signed = await sign(message());
  const lookups = () => dns.queries.filter((q) => q.name === name && q.transport === "udp").length;
  const start = lookups();
  assert.deepEqual(await verifyAligned(signed, DOMAIN, cache), { ok: true });
  assert.deepEqual(await verifyAligned(signed, DOMAIN, cache), { ok: true });
  assert.equal(lookups() - start, 1);
  assert.equal(cache.size, 1);
  // The key is rotated: the cached key now fails, the entry is dropped, the next try fetches anew.
  const resigned = await sign(message(), DOMAIN, otherKey);
  const old = dns.zone.get(name);
  dns.zone.set(name, { TXT: [dkimTxtRecord(otherKey.publicKeyPem)] });
  try {
    assert.deepEqual(await verifyAligned(resigned, DOMAIN, cache), NO_VALID);
    assert.equal(cache.size, 0);
    assert.deepEqual(await verifyAligned(resigned, DOMAIN, cache), { ok: true });
    assert.equal(lookups() - start, 2);
  } finally {
    if (old) dns.zone.set(name, old);
  }
});

/** mailauth's DKIMSignOptions wrongly requires top-level signer fields next to signatureData. */
async function mailauthSign(msg: Buffer, extra: Record<string, unknown>): Promise<Buffer> {
  const opts = {
    canonicalization: "relaxed/relaxed",
    signatureData: [{ signingDomain: DOMAIN, selector: SELECTOR, privateKey: key.privateKeyPem, ...extra }],
  } as unknown as DKIMSignOptions;
  const { signatures, errors } = await dkimSign(msg, opts);
  assert.deepEqual(errors, []);
  return Buffer.concat([Buffer.from(signatures), msg]);
}

test("a mailauth (relaxed/relaxed) signature verifies", async () => {
  const signed = await mailauthSign(message(), { algorithm: "rsa-sha256" });
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), { ok: true });
});

test("rsa-sha1 signatures are not accepted (RFC 8301)", async () => {
  const signed = await mailauthSign(message(), { algorithm: "rsa-sha1" });
  assert.match(signed.toString("latin1"), /a=rsa-sha1/);
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), NO_VALID);
});

test("l= with content appended after the signed length is not accepted", async () => {
  const signed = await mailauthSign(message(), { algorithm: "rsa-sha256", maxBodyLength: 8 });
  assert.match(signed.toString("latin1"), /l=8/);
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver()), NO_VALID);
});

test("property: any well-formed message signs, verifies, and the field stays within 78 columns", async () => {
  const txt = dkimTxtRecord(key.publicKeyPem);
  const memory = { resolveTxt: async () => [[txt]] };
  const printable = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/);
  const name = fc.constantFrom(
    "From",
    "To",
    "Cc",
    "Subject",
    "Reply-To",
    "List-Id",
    "Resent-From",
    "X-Other",
    "Chat-Foo",
  );
  const field = fc
    .tuple(name, printable, fc.boolean())
    .map(([n, v, fold]) => `${n}: ${fold ? v.replace(" ", "\r\n\t") : v}`);
  const body = fc
    .array(fc.stringMatching(/^[\x20-\x7e\u00e0-\u00ff]{0,80}$/), { maxLength: 20 })
    .map((ls) => ls.join("\r\n"));
  await fc.assert(
    fc.asyncProperty(fc.array(field, { minLength: 1, maxLength: 40 }), body, async (fields, text) => {
      const msg = Buffer.from(`${fields.join("\r\n")}\r\n\r\n${text}`, "latin1");
      const signed = await sign(msg);
      const head = signed.toString("latin1").split(/\r\n(?![ \t])/)[0] as string;
      for (const line of head.split("\r\n")) assert.ok(line.length <= 78, line);
      assert.deepEqual(await verifyAligned(signed, DOMAIN, memory), { ok: true });
    }),
    { numRuns: 40 },
  );
});
