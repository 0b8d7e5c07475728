// The armor check and the packet walk, on hand-made packet sequences and on
// messages made by openpgp.js (keys generated once for the file).

import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as openpgp from "openpgp";
import { decodeBase64Lines, decodeBase64Strict } from "../../src/policy/base64.ts";
import { isEncrypted } from "../../src/policy/encryption.ts";
import { checkArmoredPayload, dearmor, walkPackets } from "../../src/policy/openpgp.ts";
import { armor, crlf, legacyPacket, packet, partialPacket, pgpMime, splitPackets } from "./helpers.ts";

const body = (n: number, seed = 7): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 3) & 0xff));
const PKESK = packet(1, body(60));
const SKESK = packet(3, body(30));
const SEIPD = packet(18, body(300));

const walk = (...parts: Buffer[]) => walkPackets(Buffer.concat(parts));

test("walk: accepted sequences (PKESK | SKESK)* SEIPD", () => {
  for (const seq of [[SEIPD], [PKESK, SEIPD], [SKESK, SEIPD], [PKESK, PKESK, SKESK, SEIPD]]) {
    const r = walk(...seq);
    assert.equal(r.ok, true, JSON.stringify(r));
  }
  assert.deepEqual(walk(PKESK, SKESK, SEIPD).tags, [1, 3, 18]);
});

test("walk: length encodings, 1, 2 and 5 octets and partial lengths", () => {
  assert.equal(walk(packet(1, body(191)), packet(18, body(8383))).ok, true); // 1-octet max, 2-octet max
  assert.equal(walk(packet(1, body(192)), packet(18, body(8384))).ok, true); // 2-octet min, 5-octet
  for (const exp of [0, 1, 9, 12]) {
    assert.equal(walk(PKESK, partialPacket(18, body(5000), exp)).ok, true, `partial 2^${exp}`);
  }
  // a five-octet length given for a small body is legal
  const five = Buffer.concat([Buffer.from([0xd2, 255, 0, 0, 0, 4]), body(4)]);
  assert.equal(walk(PKESK, five).ok, true);
});

test("walk: legacy (old-format) headers, as GnuPG writes them", () => {
  for (const lt of [0, 1, 2] as const) {
    assert.equal(walk(legacyPacket(1, body(60), lt), SEIPD).ok, true, `length type ${lt}`);
    assert.equal(walk(legacyPacket(3, body(30), lt), legacyPacket(1, body(9), lt), SEIPD).ok, true);
  }
  assert.equal(walk(legacyPacket(1, body(60), 3), SEIPD).ok, false, "indeterminate length");
  // tag 9 (SED, no integrity protection) in legacy form as the last packet
  assert.equal(walk(PKESK, legacyPacket(9, body(40), 1)).ok, false);
});

test("walk: rejected sequences", () => {
  const cases: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["only PKESK", PKESK],
    ["SEIPD then PKESK", Buffer.concat([SEIPD, PKESK])],
    ["two SEIPD", Buffer.concat([SEIPD, SEIPD])],
    ["SEIPD then a marker packet", Buffer.concat([PKESK, SEIPD, packet(10, Buffer.from("PGP"))])],
    ["trailing garbage", Buffer.concat([PKESK, SEIPD, Buffer.from([0x00])])],
    ["trailing zero-length packet", Buffer.concat([PKESK, SEIPD, Buffer.from([0xc0, 0])])],
    ["truncated body", Buffer.concat([PKESK, SEIPD]).subarray(0, PKESK.length + SEIPD.length - 1)],
    ["truncated header", Buffer.concat([PKESK, Buffer.from([0xd2, 255, 0])])],
    ["truncated two-octet length", Buffer.concat([PKESK, Buffer.from([0xd2, 0xc5])])],
    ["partial length without final", Buffer.concat([PKESK, Buffer.from([0xd2, 0xe1, 1, 2])])],
    ["literal data (11)", packet(11, body(20))],
    [
      "one-pass signature, literal, signature",
      Buffer.concat([packet(4, body(13)), packet(11, body(20)), packet(2, body(80))]),
    ],
    ["signature before SEIPD", Buffer.concat([packet(2, body(80)), SEIPD])],
    ["compressed data before SEIPD", Buffer.concat([packet(8, body(10)), SEIPD])],
    ["SED (9) instead of SEIPD", Buffer.concat([PKESK, packet(9, body(100))])],
    ["AEAD (20) instead of SEIPD", Buffer.concat([PKESK, packet(20, body(100))])],
    ["not a header byte", Buffer.concat([Buffer.from([0x41]), SEIPD])],
  ];
  for (const [name, data] of cases) assert.equal(walkPackets(data).ok, false, name);
});

test("walk: every tag, before SEIPD and as the last packet", () => {
  for (let tag = 0; tag < 64; tag++) {
    const lead = walk(packet(tag, body(20)), SEIPD).ok;
    assert.equal(lead, tag === 1 || tag === 3, `tag ${tag} before SEIPD`);
    assert.equal(walk(PKESK, packet(tag, body(200))).ok, tag === 18, `tag ${tag} last`);
    if (tag < 16) {
      assert.equal(
        walk(legacyPacket(tag, body(20), 0), SEIPD).ok,
        tag === 1 || tag === 3,
        `legacy tag ${tag}`,
      );
      assert.equal(walk(PKESK, legacyPacket(tag, body(20), 1)).ok, false, `legacy tag ${tag} last`);
    }
  }
});

test("walk: huge declared lengths do not overflow", () => {
  const huge = Buffer.concat([PKESK, Buffer.from([0xd2, 255, 0xff, 0xff, 0xff, 0xff]), body(10)]);
  assert.equal(walkPackets(huge).ok, false);
  const partials = Buffer.concat([PKESK, Buffer.from([0xd2, 0xfe, 0xfe])]);
  assert.equal(walkPackets(partials).ok, false);
});

test("strict base64", () => {
  assert.deepEqual(decodeBase64Strict("aGk="), Buffer.from("hi"));
  assert.equal(decodeBase64Strict("aGk"), null, "unpadded");
  assert.equal(decodeBase64Strict("aGl="), null, "non-zero pad bits");
  assert.equal(decodeBase64Strict("aG k="), null, "space");
  assert.equal(decodeBase64Strict("a=Gk"), null, "padding inside");
  assert.equal(decodeBase64Strict("aGk=aGk="), null, "padding then more");
  assert.deepEqual(decodeBase64Strict(""), Buffer.alloc(0));
});

test("base64 over armor lines: CR and LF skipped, nothing else", () => {
  const lines = Buffer.from("aGVs\r\nbG8g\nd29y\rbGQ=\r\n");
  assert.equal(decodeBase64Lines(lines)?.toString(), "hello world");
  assert.equal(decodeBase64Lines(Buffer.from("aGVs bG8=")), null);
  assert.equal(decodeBase64Lines(Buffer.from("aGk=\r\n=")), null, "three pad characters");
  assert.equal(decodeBase64Lines(Buffer.from("aG\r\nk="))?.toString(), "hi");
  assert.equal(decodeBase64Lines(Buffer.from("xxaGk=yy"), 2, 6)?.toString(), "hi", "sub-range");
  for (let n = 0; n < 40; n++) {
    const data = body(n, 13);
    assert.deepEqual(decodeBase64Lines(Buffer.from(data.toString("base64"))), data, `round trip ${n}`);
  }
});

const VALID = Buffer.concat([PKESK, SEIPD]);

test("armor: shape rules", () => {
  const good = armor(VALID);
  assert.equal(checkArmoredPayload(good, "outgoing").ok, true);
  assert.equal(
    checkArmoredPayload(good.replace(/\r\n$/, "\r\n\r\n\r\n"), "outgoing").ok,
    true,
    "trailing CRLFs",
  );
  assert.equal(checkArmoredPayload(armor(VALID, { crc: false }), "outgoing").ok, true, "no CRC");
  assert.equal(
    checkArmoredPayload(good.replace("-----\r\n\r\n", "-----\r\n"), "outgoing").ok,
    true,
    "no blank line",
  );
  assert.equal(checkArmoredPayload(good.replace("-----\r\n\r\n", "-----\r\n\r\n\r\n"), "incoming").ok, true);

  const bad: [string, string][] = [
    ["bare LF", good.replaceAll("\r\n", "\n")],
    ["leading blank line", `\r\n${good}`],
    ["no END", good.replace("-----END PGP MESSAGE-----", "")],
    ["text after END", `${good}hello\r\n`],
    ["other header", armor(VALID, { headers: ["Comment: hi"] })],
    ["PGP SIGNATURE", good.replaceAll("PGP MESSAGE", "PGP SIGNATURE")],
    ["space in base64", good.replace(/\r\n\r\n(.)/, "\r\n\r\n $1")],
    [
      "not base64",
      "-----BEGIN PGP MESSAGE-----\r\n\r\nDefinitely not base64.\r\n-----END PGP MESSAGE-----\r\n",
    ],
    ["only BEGIN", "-----BEGIN PGP MESSAGE-----\r\n"],
    ["only END", "-----END PGP MESSAGE-----\r\n"],
    ["empty", ""],
  ];
  for (const [name, text] of bad) {
    assert.equal(checkArmoredPayload(text, "incoming").ok, false, name);
    assert.equal(checkArmoredPayload(text, "outgoing").ok, false, name);
  }
});

test("armor: Version header refused outgoing, skipped incoming", () => {
  const text = armor(VALID, { headers: ["Version: ProtonMail"] });
  assert.deepEqual(checkArmoredPayload(text, "outgoing"), {
    ok: false,
    reason: "armor Version header in outgoing mail",
  });
  assert.equal(checkArmoredPayload(text, "incoming").ok, true);
  // only one header line is skipped
  const two = armor(VALID, { headers: ["Version: x", "Comment: y"] });
  assert.equal(checkArmoredPayload(two, "incoming").ok, false);
  // "Version:" must start the header block
  const late = armor(VALID, { headers: ["Comment: y", "Version: x"] });
  assert.equal(checkArmoredPayload(late, "incoming").ok, false);
});

test("armor: CRC24 line is dropped, padding of an armor without CRC kept", () => {
  for (let n = 1; n <= 3; n++) {
    const data = Buffer.concat([PKESK, packet(18, body(300 + n))]); // lengths mod 3 differ
    assert.equal(dearmor(armor(data), "outgoing").ok, true, `with CRC ${n}`);
    const noCrc = armor(data, { crc: false });
    const d = dearmor(noCrc, "outgoing");
    assert.ok(d.ok, `without CRC ${n}`);
    assert.deepEqual(d.data, data);
  }
});

// ---- messages made by openpgp.js ----------------------------------------

let key: openpgp.PrivateKey;
let key2: openpgp.PrivateKey;
let v6key: openpgp.PrivateKey;

before(async () => {
  const gen = (email: string) =>
    openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ email }], format: "object" });
  key = (await gen("a@c.example")).privateKey;
  key2 = (await gen("b@d.example")).privateKey;
  v6key = (
    await openpgp.generateKey({
      type: "curve25519",
      userIDs: [{ email: "v6@c.example" }],
      format: "object",
      config: { v6Keys: true, aeadProtect: true },
    })
  ).privateKey;
});

async function encrypt(options: Partial<openpgp.EncryptOptions> & { text?: string }): Promise<string> {
  const { text, ...rest } = options;
  const message = await openpgp.createMessage({ text: text ?? "hello" });
  return (await openpgp.encrypt({ ...rest, message, format: "armored" } as openpgp.EncryptOptions & {
    format: "armored";
  })) as string;
}

/** Packet tags as openpgp.js itself reads them. */
async function libraryTags(armored: string): Promise<number[]> {
  const m = await openpgp.readMessage({ armoredMessage: armored });
  return [...m.packets].map((p) => (p.constructor as unknown as { tag: number }).tag);
}

function tagsOf(armored: string): number[] {
  const d = dearmor(crlf(armored), "incoming");
  assert.ok(d.ok);
  return walkPackets(d.data).tags;
}

function bothDirections(armored: string, expected: boolean, what: string): void {
  const message = pgpMime(armored);
  assert.equal(isEncrypted(message, "outgoing"), expected, `${what} outgoing`);
  assert.equal(isEncrypted(message, "incoming"), expected, `${what} incoming`);
}

test("openpgp.js: PKESK + SEIPD to one key", async () => {
  const a = await encrypt({ encryptionKeys: key.toPublic() });
  assert.deepEqual(tagsOf(a), [1, 18]);
  bothDirections(a, true, "one key");
});

test("openpgp.js: several PKESK, and PKESK + SKESK", async () => {
  const two = await encrypt({ encryptionKeys: [key.toPublic(), key2.toPublic()] });
  assert.deepEqual(tagsOf(two), [1, 1, 18]);
  bothDirections(two, true, "two keys");
  const mixed = await encrypt({ encryptionKeys: key.toPublic(), passwords: ["secret"] });
  assert.deepEqual(tagsOf(mixed), [1, 3, 18]);
  bothDirections(mixed, true, "key and password");
});

test("openpgp.js: SKESK only (password, as Secure-Join v3)", async () => {
  const a = await encrypt({ passwords: ["invite-code"] });
  assert.deepEqual(tagsOf(a), [3, 18]);
  bothDirections(a, true, "password");
});

test("openpgp.js: v6 key, SEIPD v2 (AEAD), armor without CRC", async () => {
  let padded = 0;
  for (const text of ["a", "ab", "abc", "hello world"]) {
    const a = await encrypt({ encryptionKeys: v6key.toPublic(), config: { aeadProtect: true }, text });
    assert.doesNotMatch(a, /\n=[A-Za-z0-9+/]{4}\n/, "RFC 9580 §6.1: no CRC after a v2 SEIPD");
    if (/=\n-----END/.test(a)) padded++;
    assert.deepEqual(tagsOf(a), [1, 18]);
    bothDirections(a, true, `v6 ${text}`);
  }
  assert.ok(padded > 0, "at least one armor ends in base64 padding");
});

test("openpgp.js: partial body lengths from a streamed message", async () => {
  const chunk = new Uint8Array(20_000).fill(65);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(chunk);
      c.close();
    },
  });
  const message = await openpgp.createMessage({ binary: stream });
  const out = (await openpgp.encrypt({
    message,
    encryptionKeys: key.toPublic(),
    format: "armored",
  })) as unknown as ReadableStream<string>;
  let a = "";
  for await (const s of out as unknown as AsyncIterable<string>) a += s;
  const d = dearmor(crlf(a), "outgoing");
  assert.ok(d.ok);
  // skip the one PKESK (new-format header, one- or two-octet length; RFC 9580 §4.2.1)
  const first = d.data[1] as number;
  const pkesk = first < 192 ? 2 + first : 3 + ((first - 192) << 8) + (d.data[2] as number) + 192;
  assert.equal(d.data[pkesk], 0xd2, "the SEIPD follows the PKESK");
  const lengthOctet = d.data[pkesk + 1] as number;
  assert.ok(lengthOctet >= 224 && lengthOctet < 255, "SEIPD starts with a partial length");
  bothDirections(a, true, "streamed");
});

test("openpgp.js: legacy-format PKESK headers (re-encoded)", async () => {
  const a = await encrypt({ encryptionKeys: [key.toPublic(), key2.toPublic()] });
  const d = dearmor(crlf(a), "outgoing");
  assert.ok(d.ok);
  const packets = splitPackets(d.data);
  for (const lt of [0, 1, 2] as const) {
    const re = Buffer.concat(
      packets.map((p) =>
        p.tag === 1
          ? legacyPacket(1, d.data.subarray(p.bodyStart, p.end), lt)
          : Buffer.from(d.data.subarray(p.start, p.end)),
      ),
    );
    assert.equal(re[0], 0x84 | lt);
    bothDirections(armor(re), true, `legacy length type ${lt}`);
  }
});

test("openpgp.js: armor Version header (showVersion)", async () => {
  const a = await encrypt({ encryptionKeys: key.toPublic(), config: { showVersion: true } });
  assert.match(a, /\nVersion: OpenPGP.js/);
  const message = pgpMime(a);
  assert.equal(isEncrypted(message, "outgoing"), false);
  assert.equal(isEncrypted(message, "incoming"), true);
  const commented = await encrypt({ encryptionKeys: key.toPublic(), config: { showComment: true } });
  assert.equal(isEncrypted(pgpMime(commented), "incoming"), false, "a Comment header is not skipped");
});

test("openpgp.js: not encrypted — signed-only, literal, garbage after SEIPD, truncated", async () => {
  const signed = (await openpgp.sign({
    message: await openpgp.createMessage({ text: "hello" }),
    signingKeys: key,
    format: "armored",
  })) as string;
  assert.deepEqual((await libraryTags(signed)).slice(0, 2), [4, 11], "one-pass signature, literal data");
  assert.deepEqual(tagsOf(signed), [4], "the walk stops at the first packet that is not PKESK/SKESK");
  bothDirections(signed, false, "signed-only");

  const literal = (await openpgp.createMessage({ text: "hello" })).armor();
  assert.deepEqual(await libraryTags(literal), [11]);
  bothDirections(literal, false, "literal");

  const enc = await encrypt({ encryptionKeys: key.toPublic() });
  const d = dearmor(crlf(enc), "outgoing");
  assert.ok(d.ok);
  bothDirections(armor(Buffer.concat([d.data, Buffer.from([0])])), false, "garbage");
  bothDirections(armor(Buffer.concat([d.data, packet(10, Buffer.from("PGP"))])), false, "packet after SEIPD");
  bothDirections(armor(d.data.subarray(0, d.data.length - 1)), false, "truncated");
  bothDirections(armor(d.data.subarray(0, 3)), false, "truncated in the first packet");
  bothDirections(armor(d.data), true, "re-armored original");
});
