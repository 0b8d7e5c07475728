/**
 * The DKIM verifier (src/dkim/verify.ts verifyAligned) with a local TXT
 * resolver double, on messages signed by src/dkim/sign.ts and then mutated.
 * Properties: never throws, always a result, bounded time; and an accepted
 * message carries, unchanged, everything one original signature covers
 * (RFC 6376 §3.4 canonical forms): its DKIM-Signature field, each field its
 * h= names (relaxed, picked bottom-up as in §5.4.2), and the body (simple).
 * The From the gate reads must be the signed one.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { relaxedHeader, selectSignedFields } from "../../../src/dkim/canon.ts";
import { dkimTxtRecord, splitTxtRecord } from "../../../src/dkim/keys.ts";
import { type HeaderField, parseHeaderBlock, toCrlf } from "../../../src/dkim/message.ts";
import { signMessage } from "../../../src/dkim/sign.ts";
import { verifyAligned } from "../../../src/dkim/verify.ts";
import { extractFrom } from "../../../src/policy/from.ts";
import { scanHeaders } from "../../../src/policy/headers.ts";
import { CORPUS_DIR, type FuzzTarget, loadCorpus } from "../lib/engine.ts";

const DOMAIN = "c.example";
const SELECTOR = "fuzz";

const DICTIONARY = [
  "\r\n",
  "\r\n ",
  "\r\n\t",
  " ",
  "\t",
  "\r\n\r\n",
  ";",
  ":",
  "=",
  "From: mallory@c.example\r\n",
  "From: alice@d.example\r\n",
  "\r\nFrom: alice@c.example",
  "Subject: changed\r\n",
  "X-Extra: 1\r\n",
  "DKIM-Signature: ",
  "v=1; a=rsa-sha256; d=c.example; s=fuzz; h=from; bh=; b=",
  " l=0;",
  " h=from:to;",
  " d=C.Example;",
  " s=FUZZ;",
  "c=simple/simple;",
  "c=relaxed/relaxed;",
  "a=rsa-sha1;",
  "@",
  "<alice@c.example>",
  "\r\n.\r\n",
];

interface Original {
  from: string;
  signature: string;
  names: string[];
  fields: string[];
  body: Buffer;
}

/** RFC 6376 §3.4.3 simple body: trailing empty lines removed, one CRLF at the end. */
function simpleBody(crlf: Buffer, offset: number): Buffer {
  let end = crlf.length;
  while (end - 2 >= offset && crlf[end - 2] === 0x0d && crlf[end - 1] === 0x0a) end -= 2;
  return Buffer.concat([crlf.subarray(offset, end), Buffer.from("\r\n")]);
}

/** The signature field as it is signed (RFC 6376 §3.7): relaxed, with an empty b= value. */
function signatureForm(raw: string): string {
  return relaxedHeader(raw).replace(/([;:]\s*b\s*=)[^;]*/, "$1");
}

function signedFields(fields: HeaderField[], names: string[]): string[] {
  return selectSignedFields(fields, names).map((f) => relaxedHeader(f.raw));
}

function gateFrom(message: Buffer): string | null {
  const from = extractFrom(scanHeaders(message));
  return from.ok ? from.mailbox.address : null;
}

function describe(message: Buffer): Original | null {
  const crlf = toCrlf(message);
  const parsed = parseHeaderBlock(crlf);
  if (!parsed.ok) return null;
  const sig = parsed.fields.find((f) => f.key === "dkim-signature");
  if (!sig) return null;
  const h = /\bh=([^;]*);/.exec(sig.raw.replace(/\s+/g, ""));
  const names = (h?.[1] ?? "").split(":").map((n) => n.toLowerCase());
  return {
    from: gateFrom(message) ?? "",
    signature: signatureForm(sig.raw),
    names,
    fields: signedFields(parsed.fields, names),
    body: simpleBody(crlf, parsed.bodyOffset),
  };
}

/** Which property an accepted message breaks against `o`, or null. */
function differsFrom(message: Buffer, o: Original): string | null {
  const crlf = toCrlf(message);
  const parsed = parseHeaderBlock(crlf);
  if (!parsed.ok) return "headers do not parse";
  if (!parsed.fields.some((f) => f.key === "dkim-signature" && signatureForm(f.raw) === o.signature))
    return "signature field";
  if (!simpleBody(crlf, parsed.bodyOffset).equals(o.body)) return "body";
  const now = signedFields(parsed.fields, o.names);
  if (JSON.stringify(now) !== JSON.stringify(o.fields)) return "signed header fields";
  if (gateFrom(message) !== o.from) return `From read by the gate (${gateFrom(message)})`;
  return null;
}

export async function dkimTarget(): Promise<FuzzTarget & { accepts(m: Buffer): Promise<boolean> }> {
  // A fixed test key and time, so signed inputs (and saved findings) replay exactly.
  const privateKeyPem = readFileSync(join(CORPUS_DIR, "dkim", ".signing-key.pem"), "utf8");
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: "spki", format: "pem" }).toString();
  const record = splitTxtRecord(dkimTxtRecord(publicKeyPem));
  const resolver = {
    async resolveTxt(name: string): Promise<string[][]> {
      if (name.toLowerCase() === `${SELECTOR}._domainkey.${DOMAIN}`) return [record];
      throw Object.assign(new Error(`${name}: no such name`), { code: "ENOTFOUND" });
    },
  };
  const signTime = new Date("2024-01-01T00:00:00Z");
  const corpus: FuzzTarget["corpus"] = [];
  for (const c of loadCorpus("dkim")) {
    // Files already signed (regressions) are kept as they are.
    if (/^DKIM-Signature:/im.test(c.data.toString("latin1"))) corpus.push(c);
    else {
      const data = await signMessage(c.data, { domain: DOMAIN, selector: SELECTOR, privateKeyPem, signTime });
      corpus.push({ name: `${c.name} (signed)`, data });
    }
  }
  const originals = corpus.map((c) => describe(c.data)).filter((o): o is Original => o !== null);
  return {
    name: "dkim",
    async accepts(message: Buffer) {
      return (await verifyAligned(message, DOMAIN, resolver)).ok;
    },
    mutator: { dictionary: DICTIONARY, maxLength: 128 * 1024 },
    corpus,
    slowMs: 2000,
    async check(message) {
      const from = extractFrom(scanHeaders(message));
      const fromDomain = from.ok ? from.mailbox.domain : DOMAIN;
      const r = await verifyAligned(message, fromDomain, resolver);
      assert.equal(typeof r.ok, "boolean", "no result");
      if (!r.ok) {
        assert.ok(r.code === 554 || r.code === 500, `code ${r.code}`);
        return;
      }
      const problems = originals.map((o) => differsFrom(message, o));
      assert.ok(
        problems.includes(null),
        `accepted, but it differs from every signed original: ${problems.join("; ")}`,
      );
    },
  };
}
