// Real chatmail messages (PGP/MIME, MDN, bounce, Autocrypt Setup Message)
// through the renderers, checked against their known structure and against a
// real client's BODYSTRUCTURE parser.

import assert from "node:assert/strict";
import { test } from "node:test";
import { bodyText, headerValues } from "../../../src/imap/mime/header.ts";
import { parseMessage } from "../../../src/imap/mime/parse.ts";
import { type FixtureName, fixture, fixtureNames } from "../../support/mail.ts";
import { bs, clientCrossCheck, env, sec } from "./helpers.ts";

// The placeholders stay: the ENVELOPE check below wants an address without a domain.
const load = (name: FixtureName): Buffer => fixture(name, "{from_addr}", "{to_addr}", "{subject}");

test("encrypted.eml is multipart/encrypted with the two PGP/MIME parts", () => {
  const raw = load("encrypted");
  const root = parseMessage(raw);
  assert.equal(root.kind, "multipart");
  assert.equal(`${root.type}/${root.subtype}`, "multipart/encrypted");
  assert.equal(root.params.protocol, "application/pgp-encrypted");
  assert.equal(root.params.boundary, "YFrteb74qSXmggbOxZL9dRnhymywAi");
  assert.equal(root.children.length, 2);
  const [version, payload] = root.children;
  assert.equal(`${version.type}/${version.subtype}`, "application/pgp-encrypted");
  // "Version: 1" CRLF, an empty line; the next CRLF belongs to the boundary
  assert.equal(sec(raw, { part: [1] }), "Version: 1\r\n\r\n");
  assert.equal(payload.params.name, "encrypted.asc");
  assert.deepEqual(payload.disposition, { type: "inline", params: [["filename", "encrypted.asc"]] });
  const armored = sec(raw, { part: [2] });
  assert.ok(armored.startsWith("-----BEGIN PGP MESSAGE-----\r\n"));
  assert.ok(armored.trimEnd().endsWith("-----END PGP MESSAGE-----"));
  // the CRLF before the closing boundary belongs to the boundary
  assert.ok(armored.endsWith("-----END PGP MESSAGE-----\r\n\r\n"));
  const size = Buffer.byteLength(armored, "latin1");
  const desc = sec(raw, { part: [2], text: "MIME" });
  assert.match(desc, /^Content-Description: OpenPGP encrypted message\r\n/);
  assert.equal(
    bs(raw, false),
    `(("application" "pgp-encrypted" NIL NIL "PGP/MIME version identification" "7bit" 14) ("application" "octet-stream" ("name" "encrypted.asc") NIL "OpenPGP encrypted message" "7bit" ${size}) "encrypted")`.replace(
      ") (",
      ")(",
    ),
  );
  assert.match(
    bs(raw, true),
    /"encrypted" \("protocol" "application\/pgp-encrypted" "boundary" "YFrteb74qSXmggbOxZL9dRnhymywAi"\) NIL NIL NIL\)$/,
  );
  assert.match(bs(raw, true), /\("inline" \("filename" "encrypted.asc"\)\) NIL NIL\)/);
  assert.equal(
    env(raw),
    '("Sun, 15 Oct 2023 16:43:21 +0000" "{subject}" ((NIL NIL "{from_addr}" "MISSING_DOMAIN")) ((NIL NIL "{from_addr}" "MISSING_DOMAIN")) ((NIL NIL "{from_addr}" "MISSING_DOMAIN")) ((NIL NIL "{to_addr}" "MISSING_DOMAIN")) NIL NIL "<Mr.MvmCz-GQbi_.6FGRkhDf05c@c2.testrun.org>" "<Mr.UVyJWZmkCKM.hGzNc6glBE_@c2.testrun.org>")',
  );
});

test("mailer-daemon.eml: multipart/report with an encapsulated message/rfc822", () => {
  const raw = load("mailer-daemon");
  const root = parseMessage(raw);
  assert.equal(`${root.type}/${root.subtype}`, "multipart/report");
  assert.deepEqual(
    root.children.map((c) => `${c.type}/${c.subtype}:${c.kind}`),
    ["text/plain:text", "message/delivery-status:other", "message/rfc822:message"],
  );
  const inner = root.children[2].message;
  assert.ok(inner);
  assert.match(bs(raw), /\("message" "rfc822" NIL NIL NIL "7bit" \d+ \(/);
  assert.equal(
    sec(raw, { part: [3], text: "HEADER" }),
    raw.toString("latin1", inner.headerStart, inner.headerEnd),
  );
  assert.ok(headerValues(raw, inner, "subject").length <= 1);
});

test("asm.eml: Content-type without MIME-Version is still MIME", () => {
  const raw = load("asm");
  const root = parseMessage(raw);
  assert.equal(root.kind, "multipart");
  assert.deepEqual(
    root.children.map((c) => `${c.type}/${c.subtype}`),
    ["text/plain", "application/autocrypt-setup"],
  );
  assert.ok(bodyText(raw, root).length > 0);
});

test("plain.eml: text/plain, format=flowed parameters in order", () => {
  const raw = load("plain");
  assert.match(
    bs(raw),
    /^\("text" "plain" \("charset" "utf-8" "format" "flowed" "delsp" "no"\) NIL NIL "7bit" \d+ \d+ NIL NIL NIL NIL\)$/,
  );
});

test("every chatmail fixture survives a real client's BODYSTRUCTURE parser", async () => {
  const files = fixtureNames() as FixtureName[];
  assert.ok(files.length >= 9);
  let parts = 0;
  for (const f of files) parts += await clientCrossCheck(load(f));
  assert.ok(parts >= 20, `${parts} parts checked`);
});
