/**
 * DKIM verification does bounded work whatever the message carries (src/dkim/select.ts):
 * only signatures aligned with the From domain, without l=, with From in h=, and only the
 * first three of those, reach mailauth, so the body is hashed at most three times.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { before, test } from "node:test";
import type { DKIMSignOptions } from "mailauth";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import type { DkimKeyPair } from "../../src/dkim/keys.ts";
import { parseHeaderBlock } from "../../src/dkim/message.ts";
import { MAX_SIGNATURES, parseTagList } from "../../src/dkim/select.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { prepareVerification, verifyAligned } from "../../src/dkim/verify.ts";
import { NO_VALID, publishedKey, type TxtResolver } from "../support/dkim.ts";

const DOMAIN = "example.org";
const OK = { ok: true };

let key: DkimKeyPair;
let resolver: TxtResolver;
before(async () => {
  ({ key, resolver } = await publishedKey());
});

// Bytes mailauth feeds into body hashes, counted on its two body canonicalizers.
const require = createRequire(import.meta.url);
let hashed = 0;
for (const mod of ["mailauth/lib/dkim/body/relaxed.js", "mailauth/lib/dkim/body/simple.js"]) {
  const cls = Object.values(
    require(mod) as Record<string, { prototype: { update(c: Buffer): unknown } }>,
  )[0]!;
  const update = cls.prototype.update;
  cls.prototype.update = function (this: unknown, chunk: Buffer, ...rest: unknown[]) {
    hashed += chunk?.length ?? 0;
    return (update as (...a: unknown[]) => unknown).call(this, chunk, ...rest);
  };
}

function message(body = "Hello,\r\nworld\r\n", from = `alice@${DOMAIN}`): Buffer {
  return Buffer.from(
    `From: Alice <${from}>\r\nTo: bob@other.test\r\nSubject: [...]\r\n` +
      `Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m1@${DOMAIN}>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
  );
}

function sign(msg: Buffer, domain = DOMAIN): Promise<Buffer> {
  return signMessage(msg, { domain, selector: "sel", privateKeyPem: key.privateKeyPem });
}

async function mailauthSign(
  msg: Buffer,
  extra: Record<string, unknown>,
  headerList?: string,
): Promise<Buffer> {
  const opts = {
    canonicalization: "relaxed/relaxed",
    headerList,
    signatureData: [{ signingDomain: DOMAIN, selector: "sel", privateKey: key.privateKeyPem, ...extra }],
  } as unknown as DKIMSignOptions;
  const { signatures, errors } = await dkimSign(msg, opts);
  assert.deepEqual(errors, []);
  return Buffer.concat([Buffer.from(signatures), msg]);
}

/** A DKIM-Signature field that does not verify. */
function junk(i: number, tags: string, domain = DOMAIN): string {
  return `DKIM-Signature: v=1; a=rsa-sha256; d=${domain}; s=s${i}; ${tags}; bh=${"A".repeat(43)}=; b=${i}AAAA\r\n`;
}

function prepend(fields: string, msg: Buffer): Buffer {
  return Buffer.concat([Buffer.from(fields), msg]);
}

/** DKIM-Signature fields in the copy mailauth gets. */
function handedOn(msg: Buffer): number {
  const p = prepareVerification(msg, DOMAIN);
  assert.ok(p.ok);
  const parsed = parseHeaderBlock(p.message);
  assert.ok(parsed.ok);
  return parsed.fields.filter((f) => f.key === "dkim-signature").length;
}

async function measured(msg: Buffer): Promise<{ result: unknown; cpuMs: number; hashes: number }> {
  const bodySize = msg.length - msg.indexOf("\r\n\r\n") - 4;
  hashed = 0;
  const t0 = process.cpuUsage();
  const result = await verifyAligned(msg, DOMAIN, resolver);
  const cpu = process.cpuUsage(t0);
  return { result, cpuMs: (cpu.user + cpu.system) / 1000, hashes: hashed / bodySize };
}

const BIG = "0123456789abcdef"
  .repeat(4)
  .concat("\r\n")
  .repeat(Math.ceil((5 * 1024 * 1024) / 66));

test("400 DKIM-Signature fields on a 5 MiB body: at most 3 body hashes", async () => {
  const signed = await sign(message(BIG));
  // Each with its own l= near the body size (a separate full body hash in mailauth) and c=.
  const fields = Array.from({ length: 400 }, (_, i) =>
    junk(i, `c=${i % 2 ? "relaxed" : "simple"}/relaxed; h=from:subject; l=${5_000_000 + i}`),
  ).join("");
  const attack = prepend(fields, signed);
  const { result, cpuMs, hashes } = await measured(attack);
  assert.deepEqual(result, OK, "the real signature below the junk still counts (l= ones are never eligible)");
  assert.ok(hashes <= MAX_SIGNATURES, `${hashes.toFixed(1)} body hashes`);
  // Generous: ~100 ms; before the selection it was ~6.5 s (401 body hashes).
  assert.ok(cpuMs < 1500, `${cpuMs.toFixed(0)} ms of CPU`);
  assert.equal(handedOn(attack), 1);

  // Without l=: 400 eligible-looking aligned fields in every canonicalization.
  const eligible = Array.from({ length: 400 }, (_, i) =>
    junk(i, `c=${["simple/simple", "relaxed/relaxed", "simple/relaxed", "relaxed/simple"][i % 4]}; h=from`),
  ).join("");
  const second = await measured(prepend(eligible, signed));
  assert.deepEqual(second.result, NO_VALID, "only the first three aligned signatures are considered");
  assert.ok(second.hashes <= MAX_SIGNATURES, `${second.hashes.toFixed(1)} body hashes`);
  assert.ok(second.cpuMs < 1500, `${second.cpuMs.toFixed(0)} ms of CPU`);
  assert.equal(handedOn(prepend(eligible, signed)), MAX_SIGNATURES);
});

test("l= is refused even when it covers the whole body", async () => {
  const body = "Hello,\r\nworld\r\n";
  const signed = await mailauthSign(message(body), { algorithm: "rsa-sha256", maxBodyLength: body.length });
  assert.match(signed.toString("latin1"), /l=15/);
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver), NO_VALID);
  assert.deepEqual(
    await verifyAligned(await mailauthSign(message(body), { algorithm: "rsa-sha256" }), DOMAIN, resolver),
    OK,
  );
});

test("a signature whose h= does not list From is refused", async () => {
  const without = await mailauthSign(message(), { algorithm: "rsa-sha256" }, "Subject:To:Date:Message-ID");
  assert.doesNotMatch(without.toString("latin1"), /h=[^;]*from/i);
  assert.deepEqual(await verifyAligned(without, DOMAIN, resolver), NO_VALID);
  const withFrom = await mailauthSign(message(), { algorithm: "rsa-sha256" }, "From:Subject:To");
  assert.deepEqual(await verifyAligned(withFrom, DOMAIN, resolver), OK);
});

test("unaligned signatures are ignored: not hashed, not handed on", async () => {
  const signed = await sign(message(BIG));
  const others = Array.from({ length: 50 }, (_, i) => junk(i, `h=from; l=${100 + i}`, "other.test")).join("");
  const msg = prepend(others, signed);
  const { result, hashes } = await measured(msg);
  assert.deepEqual(result, OK);
  assert.ok(hashes <= 1.01, `${hashes.toFixed(1)} body hashes`);
  assert.equal(handedOn(msg), 1);
});

test("ARC signatures are not handed on unless a selected signature signs them", async () => {
  const signed = await sign(message(BIG));
  const arc =
    "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=x; b=AAAA\r\n" +
    `ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=x; h=from; bh=${"A".repeat(43)}=; b=AAAA\r\n` +
    "ARC-Authentication-Results: i=1; mx.example.org; dkim=pass\r\n";
  const msg = prepend(arc, signed);
  const p = prepareVerification(msg, DOMAIN);
  assert.ok(p.ok);
  const keys = (parseHeaderBlock(p.message) as { fields: { key: string }[] }).fields.map((f) => f.key);
  assert.ok(!keys.includes("arc-seal") && !keys.includes("arc-message-signature"), keys.join());
  assert.ok(keys.includes("arc-authentication-results"));
  const { result, hashes } = await measured(msg);
  assert.deepEqual(result, OK);
  assert.ok(hashes <= 1.01, `${hashes.toFixed(1)} body hashes`);
});

test("the rule: the first three aligned signatures only, top to bottom", async () => {
  const signed = await sign(message());
  // A valid signature goes first when the signer prepends it: any junk added below is not looked at.
  const below = Buffer.from(
    signed.toString("latin1").replace("\r\nFrom:", `\r\n${junk(1, "h=from").slice(0, -2)}\r\nFrom:`),
    "latin1",
  );
  assert.deepEqual(await verifyAligned(below, DOMAIN, resolver), OK);
  const two = Array.from({ length: 2 }, (_, i) => junk(i, "h=from")).join("");
  assert.deepEqual(await verifyAligned(prepend(two, signed), DOMAIN, resolver), OK);
  const fifty = Array.from({ length: 50 }, (_, i) => junk(i, "h=from")).join("");
  assert.deepEqual(await verifyAligned(prepend(fifty, signed), DOMAIN, resolver), NO_VALID);
  // Fields that are not eligible do not use up the three places.
  const ineligible = [
    junk(1, "h=subject"),
    junk(2, "h=from; l=5"),
    junk(3, "h=from (comment)"),
    junk(4, 'h="from"'),
    junk(5, "h=from; h=from"),
    junk(6, "h=from").replace("a=rsa-sha256", "a=rsa-sha1"),
    junk(7, "h=from").replace("v=1", "v=2"),
  ].join("");
  assert.deepEqual(await verifyAligned(prepend(ineligible.repeat(10), signed), DOMAIN, resolver), OK);
});

test("signatures that sign other DKIM-Signature fields keep them (RFC 6376 §5.4.2)", async () => {
  // A forwarder's unaligned signature sits at the bottom of the header; the aligned signer
  // then signs it (h= lists DKIM-Signature), so the bottom-most instance is part of its hash.
  const forwarded = await sign(message(), "other.test");
  const text = forwarded.toString("latin1");
  const end = text.indexOf("\r\n\r\n") + 2;
  const bottom = Buffer.from(
    text.slice(0, end) + junk(999, "h=from", "other.test").slice(0, -2) + text.slice(end - 2),
    "latin1",
  );
  const signed = await mailauthSign(bottom, { algorithm: "rsa-sha256" }, "From:Subject:DKIM-Signature");
  assert.match(signed.toString("latin1"), /h=[^;]*DKIM-Signature/i);
  const withJunk = prepend(
    Array.from({ length: 20 }, (_, i) => junk(i, "h=from; l=9", "other.test")).join(""),
    signed,
  );
  assert.deepEqual(await verifyAligned(withJunk, DOMAIN, resolver), OK);
  // The two unaligned fields it signs are handed on with it; the twenty others are not.
  assert.equal(handedOn(withJunk), 3);
  // Tampering with a signed DKIM-Signature field breaks it.
  const tampered = Buffer.from(withJunk.toString("latin1").replace("s=s999;", "s=s998;"), "latin1");
  assert.deepEqual(await verifyAligned(tampered, DOMAIN, resolver), NO_VALID);
});

test("many header fields: bounded work, and none verified past 256 KiB", async () => {
  const signed = await sign(message());
  // Just under the bound: 30,000 fields and three signatures naming 256 absent fields each.
  const names = Array.from({ length: 255 }, (_, i) => `x-absent-${i}`).join(":");
  const heavy = Array.from({ length: 3 }, (_, i) => junk(i, `h=from:${names}`)).join("");
  const filler = "X-A: 1\r\n".repeat(30_000);
  const near = prepend(heavy + filler, signed);
  const { result, cpuMs } = await measured(near);
  assert.deepEqual(result, NO_VALID);
  assert.ok(cpuMs < 1500, `${cpuMs.toFixed(0)} ms of CPU`);
  // Over the bound, even a valid signature is not looked at.
  const over = prepend("X-A: 1\r\n".repeat(40_000), signed);
  assert.deepEqual(await verifyAligned(over, DOMAIN, resolver), NO_VALID);
  assert.deepEqual(await verifyAligned(prepend("X-A: 1\r\n".repeat(1000), signed), DOMAIN, resolver), OK);
});

test("a signed signature field with an unbounded h= disqualifies the one that signs it", async () => {
  const names = Array.from({ length: 600 }, () => "x").join(":");
  const base = Buffer.concat([Buffer.from(junk(1, `h=${names}`, "other.test")), message()]);
  const signed = await mailauthSign(base, { algorithm: "rsa-sha256" }, "From:Subject:DKIM-Signature");
  assert.deepEqual(await verifyAligned(signed, DOMAIN, resolver), NO_VALID);
  assert.equal(handedOn(signed), 0);
});

test("tag lists: RFC 6376 §3.2 syntax, nothing mailauth would read differently", () => {
  assert.deepEqual(
    parseTagList(" v=1; a=rsa-sha256;\r\n\td=example.org; h=From :\r\n To; b=ab\r\n cd;"),
    new Map([
      ["v", "1"],
      ["a", "rsa-sha256"],
      ["d", "example.org"],
      ["h", "From:To"],
      ["b", "abcd"],
    ]),
  );
  for (const bad of ["d=a; d=b", "d=a (x)", 'd="a"', "d=a\\b", "d=a; junk", "1d=a", "d='a'"]) {
    assert.equal(parseTagList(bad), null, bad);
  }
});
