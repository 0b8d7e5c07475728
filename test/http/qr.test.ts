import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import {
  chooseVersion,
  encodeQr,
  formatBits,
  QrCapacityError,
  versionBits,
} from "../../src/http/qr/encode.ts";
import { reedSolomonRemainder } from "../../src/http/qr/reed-solomon.ts";
import { qrSvg } from "../../src/http/qr/svg.ts";
import { blockLayout, rawDataModules } from "../../src/http/qr/tables.ts";
import { decodeMatrix, toRows } from "./qr-decode.ts";

test("Reed-Solomon codewords match ISO/IEC 18004 Annex I (01234567, 1-M)", () => {
  const data = [
    0x10, 0x20, 0x0c, 0x56, 0x61, 0x80, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11,
  ];
  assert.deepEqual(
    [...reedSolomonRemainder(data, 10)],
    [0xa5, 0x24, 0xd4, 0xc1, 0xed, 0x36, 0xc7, 0x87, 0x2c, 0x55],
  );
});

test("Reed-Solomon codewords match the published HELLO WORLD 1-M example", () => {
  const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17];
  assert.deepEqual([...reedSolomonRemainder(data, 10)], [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
});

test("format and version information match Annex C and D", () => {
  const m = [
    "101010000010010",
    "101000100100101",
    "101111001111100",
    "101101101001011",
    "100010111111001",
    "100000011001110",
    "100111110010111",
    "100101010100000",
  ];
  for (let mask = 0; mask < 8; mask++) assert.equal(formatBits(mask).toString(2).padStart(15, "0"), m[mask]);
  assert.equal(versionBits(7), 0x07c94);
  assert.equal(versionBits(10), 0x0a4d3);
  assert.equal(versionBits(40), 0x28c69);
});

test("block table fills every version exactly (Table 9 against the module count)", () => {
  for (let v = 1; v <= 40; v++) {
    const { ecPerBlock, dataPerBlock } = blockLayout(v);
    const total = dataPerBlock.reduce((a, b) => a + b + ecPerBlock, 0);
    assert.equal(total, Math.floor(rawDataModules(v) / 8), `version ${v}`);
  }
});

test("byte-mode capacities at level M (Table 7)", () => {
  const capacity = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213];
  capacity.forEach((n, i) => {
    assert.equal(chooseVersion(n), i + 1);
    assert.equal(chooseVersion(n + 1), i + 2);
  });
  assert.throws(() => chooseVersion(2332), QrCapacityError);
  assert.throws(() => encodeQr("x".repeat(20), { version: 1 }), QrCapacityError);
});

test("matrices equal those of a reference encoder (python-qrcode) for the same version and mask", () => {
  const vectors = JSON.parse(readFileSync(new URL("./qr-vectors.json", import.meta.url), "utf8")) as {
    cases: Array<{ text: string; version: number; mask: number; rows: string[] }>;
  };
  assert.equal(vectors.cases.length, 4);
  for (const c of vectors.cases) {
    const qr = encodeQr(c.text, { version: c.version, mask: c.mask });
    const rows: string[] = [];
    for (let y = 0; y < qr.size; y++)
      rows.push([...qr.modules.subarray(y * qr.size, (y + 1) * qr.size)].join(""));
    assert.deepEqual(rows, c.rows, `version ${c.version}`);
  }
});

test("every mask and version decodes back to the text", () => {
  const capacity = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362];
  for (let v = 1; v <= 14; v++)
    for (let mask = 0; mask < 8; mask++) {
      const text = `DCACCOUNT:https://v${v}.example/new?${"q".repeat(400)}`.slice(0, capacity[v - 1]);
      const qr = encodeQr(text, { version: v, mask });
      const d = decodeMatrix(toRows(qr.modules, qr.size));
      assert.deepEqual(d, { text, version: v, mask });
    }
});

test("random texts round-trip with the chosen mask", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 120 }), (text) => {
      const qr = encodeQr(text);
      assert.equal(decodeMatrix(toRows(qr.modules, qr.size)).text, text);
    }),
    { numRuns: 150 },
  );
});

test("the SVG draws exactly the dark modules, with a quiet zone", () => {
  const qr = encodeQr("DCACCOUNT:https://example.org/new");
  const svg = qrSvg(qr, { label: 'QR "code" <x>' });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 37 37"/);
  assert.match(svg, /aria-label="QR &quot;code&quot; &lt;x&gt;"/);
  const d = /<path fill="#000" d="([^"]*)"/.exec(svg)?.[1] ?? "";
  const drawn = new Uint8Array(qr.size * qr.size);
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    const [x, y, run] = [Number(m[1]) - 4, Number(m[2]) - 4, Number(m[3])];
    for (let i = 0; i < run; i++) drawn[y * qr.size + x + i] = 1;
  }
  assert.deepEqual(drawn, qr.modules);
});
