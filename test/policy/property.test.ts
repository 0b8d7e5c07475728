// Property tests: a payload wrapped as part 2 of an otherwise valid
// multipart/encrypted message passes the gate exactly when the packet
// structure is (PKESK | SKESK)* SEIPD with consistent lengths.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isEncrypted } from "../../src/policy/encryption.ts";
import { armor, pgpMime } from "./helpers.ts";

/**
 * Independent reference: read every packet into a list first (RFC 9580 §4.2),
 * then match the tag sequence. Returns null when the data is not a clean
 * sequence of packets. A packet read with a partial body length is recorded
 * with its tag negated, so the matcher can tell it apart.
 */
function referenceTags(data: Uint8Array): number[] | null {
  const tags: number[] = [];
  let pos = 0;
  const byte = (k: number): number => {
    if (k >= data.length) throw new RangeError("short");
    return data[k] as number;
  };
  try {
    while (pos < data.length) {
      const ctb = byte(pos++);
      if (!(ctb & 0x80)) return null;
      if (ctb & 0x40) {
        let partial = false;
        for (;;) {
          const first = byte(pos);
          if (first < 192) {
            pos += 1 + first;
            break;
          }
          if (first < 224) {
            pos += 2 + ((first - 192) * 256 + byte(pos + 1) + 192);
            break;
          }
          if (first === 255) {
            const view = new DataView(data.buffer, data.byteOffset + pos + 1, 4);
            if (pos + 5 > data.length) return null;
            pos += 5 + view.getUint32(0);
            break;
          }
          partial = true;
          pos += 1 + (1 << (first & 0x1f)); // partial: another length follows
        }
        tags.push(partial ? -(ctb & 0x3f) : ctb & 0x3f);
      } else {
        tags.push((ctb >> 2) & 0x0f);
        const kind = ctb & 3;
        if (kind === 3) return null;
        const size = [1, 2, 4][kind] as number;
        let len = 0;
        for (let k = 0; k < size; k++) len = len * 256 + byte(pos + k);
        pos += size + len;
      }
      if (pos > data.length) return null;
    }
  } catch {
    return null;
  }
  return tags;
}

// RFC 9580 §4.2.1.4: partial lengths only on data packets, so a session-key
// packet read with one (a negated tag) does not match.
function referenceAccepts(data: Uint8Array): boolean {
  const tags = referenceTags(data);
  if (tags === null || tags.length === 0) return false;
  const last = tags.at(-1) as number;
  return (last === 18 || last === -18) && tags.slice(0, -1).every((t) => t === 1 || t === 3);
}

function gate(data: Uint8Array): { outgoing: boolean; incoming: boolean } {
  const message = pgpMime(armor(data));
  return { outgoing: isEncrypted(message, "outgoing"), incoming: isEncrypted(message, "incoming") };
}

// ---- generated packet sequences ------------------------------------------

type LengthForm = "one" | "two" | "five" | "partial" | "legacy0" | "legacy1" | "legacy2";

interface GenPacket {
  tag: number;
  form: LengthForm;
  body: Uint8Array;
  chunkExp: number;
}

function newLength(n: number, form: "one" | "two" | "five"): number[] {
  if (form === "one") return [n];
  if (form === "two") return [((n - 192) >> 8) + 192, (n - 192) & 0xff];
  return [255, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function definite(n: number, preferred: LengthForm): number[] {
  if (preferred === "five") return newLength(n, "five");
  if (n < 192 && preferred === "one") return newLength(n, "one");
  if (n >= 192 && n < 8384 && preferred === "two") return newLength(n, "two");
  return n < 192 ? newLength(n, "one") : n < 8384 ? newLength(n, "two") : newLength(n, "five");
}

function encode(p: GenPacket): Buffer {
  const n = p.body.length;
  if (p.form.startsWith("legacy") && p.tag < 16) {
    const lt = Number(p.form.slice(6)) as 0 | 1 | 2;
    const fits = lt === 0 ? n < 256 : lt === 1 ? n < 65536 : true;
    const use = fits ? lt : 2;
    const len = use === 0 ? [n] : use === 1 ? [n >> 8, n & 0xff] : [0, 0, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([0x80 | (p.tag << 2) | use, ...len]), p.body]);
  }
  if (p.form === "partial") {
    const chunk = 2 ** p.chunkExp;
    const out: Buffer[] = [Buffer.from([0xc0 | p.tag])];
    let i = 0;
    while (n - i > chunk) {
      out.push(Buffer.from([224 + p.chunkExp]), Buffer.from(p.body.subarray(i, i + chunk)));
      i += chunk;
    }
    out.push(Buffer.from(definite(n - i, "one")), Buffer.from(p.body.subarray(i)));
    return Buffer.concat(out);
  }
  return Buffer.concat([Buffer.from([0xc0 | p.tag, ...definite(n, p.form)]), p.body]);
}

const tagArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 3, 18) },
  { weight: 2, arbitrary: fc.constantFrom(2, 4, 8, 9, 10, 11, 20) }, // signature, literal, SED, AEAD...
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 63 }) },
);
const packetArb: fc.Arbitrary<GenPacket> = fc.record({
  tag: tagArb,
  form: fc.constantFrom<LengthForm>("one", "two", "five", "partial", "legacy0", "legacy1", "legacy2"),
  body: fc.uint8Array({ maxLength: 700 }),
  chunkExp: fc.integer({ min: 0, max: 9 }),
});

/** Whether encode() writes at least one partial body length for `p`. */
function usesPartial(p: GenPacket): boolean {
  return p.form === "partial" && p.body.length > 2 ** p.chunkExp;
}

function expectedFor(packets: GenPacket[]): boolean {
  // Tags >= 16 cannot be legacy; encode() then falls back to the new format.
  if (packets.length === 0) return false;
  const tags = packets.map((p) => p.tag);
  // Session-key packets may not use partial lengths (RFC 9580 §4.2.1.4).
  const sessionKeysOk = packets.slice(0, -1).every((p) => (p.tag === 1 || p.tag === 3) && !usesPartial(p));
  return tags.at(-1) === 18 && sessionKeysOk;
}

/**
 * Sequences that are valid by construction: (PKESK | SKESK)* SEIPD in any
 * length encoding, except partial lengths on the session-key packets.
 */
const validPacketsArb = fc.tuple(fc.array(packetArb, { maxLength: 4 }), packetArb).map(([head, last]) => [
  ...head.map((p) => ({
    ...p,
    tag: p.tag % 2 === 0 ? 1 : 3,
    form: p.form === "partial" ? ("two" as const) : p.form,
  })),
  { ...last, tag: 18 },
]);

/** Session-key packets written with partial lengths in front of a valid SEIPD. */
const partialSessionKeyArb = fc
  .tuple(
    validPacketsArb,
    fc.nat(),
    fc.constantFrom(1, 3),
    fc.integer({ min: 0, max: 8 }),
    fc.integer({ min: 1, max: 300 }),
  )
  .map(([ps, at, tag, chunkExp, extra]) => {
    const bad: GenPacket = { tag, form: "partial", body: new Uint8Array(2 ** chunkExp + extra), chunkExp };
    const out = [...ps];
    out.splice(at % ps.length, 0, bad);
    return out;
  });

test("property: partial body lengths on PKESK/SKESK are refused (RFC 9580 §4.2.1.4)", () => {
  fc.assert(
    fc.property(partialSessionKeyArb, (packets) => {
      const data = Buffer.concat(packets.map(encode));
      assert.equal(expectedFor(packets), false);
      assert.equal(referenceAccepts(data), false, "reference walker refuses");
      const g = gate(data);
      assert.equal(g.outgoing, false);
      assert.equal(g.incoming, false);
    }),
    { numRuns: 200 },
  );
});

test("property: generated packet sequences pass iff the tags are (1|3)*18", () => {
  fc.assert(
    fc.property(fc.oneof(validPacketsArb, fc.array(packetArb, { maxLength: 5 })), (packets) => {
      const data = Buffer.concat(packets.map(encode));
      const expected = expectedFor(packets);
      assert.equal(referenceAccepts(data), expected, "reference walker agrees with the generator");
      const g = gate(data);
      assert.equal(g.outgoing, expected);
      assert.equal(g.incoming, expected);
    }),
    { numRuns: 500 },
  );
});

test("property: a valid sequence truncated anywhere is refused", () => {
  const validArb = validPacketsArb.map((ps) => Buffer.concat(ps.map(encode)));
  fc.assert(
    fc.property(validArb, fc.nat(), (data, cut) => {
      assert.equal(gate(data).outgoing, true);
      const at = cut % data.length;
      assert.equal(gate(data.subarray(0, at)).outgoing, false, `cut at ${at} of ${data.length}`);
    }),
    { numRuns: 200 },
  );
});

test("property: mutated and random payloads pass only if the reference walk says so", () => {
  const validArb = validPacketsArb.map((ps) => Buffer.concat(ps.map(encode)));
  const mutated = fc
    .tuple(
      validArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([data, flips, tail]) => {
      const d = Buffer.from(data);
      for (const [at, v] of flips) if (d.length > 0) d[at % d.length] = v;
      return Buffer.concat([d, tail]);
    });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 })), (data) => {
      const expected = referenceAccepts(data);
      const g = gate(data);
      assert.equal(g.outgoing, expected);
      assert.equal(g.incoming, expected);
    }),
    { numRuns: 500 },
  );
});
