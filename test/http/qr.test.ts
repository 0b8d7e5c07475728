/**
 * The website's QR code (src/http/site/qr.ts): the `qrcode` package encodes, we draw the
 * SVG. Everything is checked by decoding with test/http/qr-decode.ts, written from the
 * standard separately from both, by jsQR from npm (test/http/qr-jsqr.ts) on the drawn
 * picture, and the matrices against python-qrcode's.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import QRCode from "qrcode";
import { qrSvg } from "../../src/http/site/qr.ts";
import { decodeMatrix, decodeSvg, toRows } from "./qr-decode.ts";
import { jsqrDecodeSvg } from "./qr-jsqr.ts";

function svgSize(svg: string): number {
  return Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]) - 8;
}

test("the SVG draws exactly the dark modules, with a quiet zone and an escaped label", () => {
  const text = "DCACCOUNT:https://example.org/new";
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const svg = qrSvg(text, { label: 'QR "code" <x>' });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 (\d+) \1"/);
  assert.equal(svgSize(svg), modules.size);
  assert.match(svg, /aria-label="QR &quot;code&quot; &lt;x&gt;"/);
  assert.match(svg, / width="(\d+)" height="\1"/);
  const d = /<path fill="#000" d="([^"]*)"/.exec(svg)?.[1] ?? "";
  const drawn = new Uint8Array(modules.size * modules.size);
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    const [x, y, run] = [Number(m[1]) - 4, Number(m[2]) - 4, Number(m[3])];
    for (let i = 0; i < run; i++) drawn[y * modules.size + x + i] = 1;
  }
  assert.deepEqual(drawn, modules.data);
  assert.equal(decodeSvg(svg), text);
});

test("level M and the smallest version: byte-mode capacities of Table 7, versions 1-10", () => {
  const capacity = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213];
  capacity.forEach((n, i) => {
    const fits = qrSvg("x".repeat(n), { label: "" });
    assert.equal(svgSize(fits), 17 + 4 * (i + 1), `${n} bytes`);
    assert.equal(decodeSvg(fits), "x".repeat(n));
    assert.equal(svgSize(qrSvg("x".repeat(n + 1), { label: "" })), 17 + 4 * (i + 2), `${n + 1} bytes`);
  });
});

test("account links of every length up to version 14 decode back, whatever the segments", () => {
  for (const tail of ["", "?", "?123456789012", "?ABCDEFGHIJ:0123", "?é€"]) {
    for (let n = 0; n <= 300; n += 25) {
      const text = `DCACCOUNT:https://${"v".repeat(n)}.example/new${tail}`;
      assert.equal(decodeSvg(qrSvg(text, { label: "" })), text);
    }
  }
  // all digits and all upper case: numeric and alphanumeric segments
  for (const text of ["0", "12", "123", "1234567890123", "A", "AB", "DCACCOUNT:HTTPS://X.EXAMPLE/NEW"])
    assert.equal(decodeSvg(qrSvg(text, { label: "" })), text);
});

test("random texts round-trip", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 120 }), (text) => {
      assert.equal(decodeSvg(qrSvg(text, { label: "" })), text);
    }),
    { numRuns: 150 },
  );
});

test("matrices equal those of a reference encoder (python-qrcode) for the same version and mask", () => {
  const vectors = JSON.parse(readFileSync(new URL("./qr-vectors.json", import.meta.url), "utf8")) as {
    cases: Array<{ text: string; version: number; mask: number; rows: string[] }>;
  };
  assert.equal(vectors.cases.length, 4);
  for (const c of vectors.cases) {
    const { modules } = QRCode.create([{ mode: "byte", data: Buffer.from(c.text) }], {
      errorCorrectionLevel: "M",
      version: c.version,
      maskPattern: c.mask as QRCode.QRCodeMaskPattern,
    });
    const rows = toRows(modules.data, modules.size).map((r) => r.map(Number).join(""));
    assert.deepEqual(rows, c.rows, `version ${c.version}`);
    assert.deepEqual(decodeMatrix(toRows(modules.data, modules.size)), {
      text: c.text,
      version: c.version,
      mask: c.mask,
    });
  }
});

test("jsQR, an independent decoder, reads the drawn SVG: account links and random texts", () => {
  for (const text of [
    "DCACCOUNT:https://example.org/new",
    "0123456789",
    "DCACCOUNT:HTTPS://X.EXAMPLE/NEW",
    "?é€",
  ])
    assert.equal(jsqrDecodeSvg(qrSvg(text, { label: "" })), text);
  assert.equal(
    jsqrDecodeSvg(qrSvg(`DCACCOUNT:https://${"v".repeat(200)}.example/new`, { label: "" })),
    `DCACCOUNT:https://${"v".repeat(200)}.example/new`,
  );
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }), (text) => {
      assert.equal(jsqrDecodeSvg(qrSvg(text, { label: "" })), text);
    }),
    { numRuns: 40 },
  );
});
