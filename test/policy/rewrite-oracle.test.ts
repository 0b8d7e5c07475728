// Header rewrites (src/policy/rewrite.ts) checked against an independent
// reader: Python's email package (test/policy/header-oracle.py), not our own
// header scanner. For random header blocks (folded lines, odd whitespace,
// duplicate fields, 8-bit bytes, mixed line endings) Python must read, after the
// rewrite, exactly the fields it read before minus the removed ones (Subject
// replaced by "[...]"), by name and unfolded value, in the same order, and the
// body byte for byte. All inputs of a run go to one Python process; only when
// the batch finds a failure does fast-check re-run case by case, to shrink it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { rewriteSubmitted, stripForLocalDelivery } from "../../src/policy/rewrite.ts";

interface Reading {
  fields?: Array<[string, string]>;
  body?: string | null;
  defects?: string[];
  error?: string;
}

function python(messages: string[]): Reading[] {
  const script = fileURLToPath(new URL("header-oracle.py", import.meta.url));
  const r = spawnSync("python3", [script], { input: JSON.stringify(messages), maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  return JSON.parse(r.stdout.toString()) as Reading[];
}

// ---- generated messages ----------------------------------------------------

const STRIPPED = [
  "Subject",
  "Received",
  "X-Mailer",
  "User-Agent",
  "X-Originating-IP",
  "DKIM-Signature",
  "Authentication-Results",
];
const KEPT = ["From", "To", "Message-ID", "Date", "Autocrypt", "X-Received", "Subjects"];

// RFC 5322 §3.6.8: ftext is %d33-57 / %d59-126.
const ftext = fc.integer({ min: 33, max: 126 }).filter((c) => c !== 0x3a);
const nameArb = fc.oneof(
  fc
    .tuple(fc.constantFrom(...STRIPPED, ...KEPT), fc.array(fc.boolean(), { maxLength: 30 }))
    .map(([n, up]) => [...n].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join("")),
  fc.array(ftext, { minLength: 1, maxLength: 12 }).map((cs) => String.fromCharCode(...cs)),
);
// Any byte but CR and LF inside a line: controls, NUL, HT, 8-bit. Lines may end
// in a bare CR, where Python breaks lines (RFC 5322 §2.2 allows CR only in CRLF).
const textByte = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(0x20, 0x09) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 0x0a && c !== 0x0d) },
);
const textArb = fc.array(textByte, { maxLength: 24 }).map((cs) => String.fromCharCode(...cs));
const eolArb = fc.constantFrom("\r\n", "\n", "\r");
const wspArb = fc.array(fc.constantFrom(" ", "\t"), { minLength: 1, maxLength: 3 }).map((w) => w.join(""));
const fieldArb = fc
  .tuple(
    nameArb,
    fc.constantFrom("", " ", "\t", "  "),
    textArb,
    eolArb,
    fc.array(fc.tuple(wspArb, textArb, eolArb), { maxLength: 3 }),
  )
  .map(
    ([name, gap, first, eol, more]) =>
      `${name}:${gap}${first}${eol}${more.map(([w, t, e]) => `${w}${t}${e}`).join("")}`,
  );
const messageArb = fc
  .record({
    fields: fc.array(fieldArb, { maxLength: 12 }),
    separator: eolArb,
    body: fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString("latin1")),
  })
  .map((g) => {
    // A bare CR followed by LF is a CRLF: keep the separator an empty line of its own.
    const crBefore = g.fields.at(-1)?.endsWith("\r") === true && g.separator === "\n";
    const lfAfter = g.separator === "\r" && g.body.startsWith("\n");
    return crBefore || lfAfter ? { ...g, separator: "\r\n" } : g;
  });
type Generated = { fields: string[]; separator: string; body: string };
const text = (g: Generated): string => `${g.fields.join("")}${g.separator}${g.body}`;

// ---- the property -----------------------------------------------------------

const REWRITES = [
  {
    rewrite: rewriteSubmitted,
    removed: new Set(["received", "x-originating-ip", "x-mailer", "user-agent"]),
    subject: "[...]" as string | undefined,
  },
  {
    rewrite: stripForLocalDelivery,
    removed: new Set(["dkim-signature", "authentication-results", "received"]),
    subject: undefined,
  },
];

/** The messages Python reads for one generated case: the input, then each rewrite's output. */
function texts(g: Generated): string[] {
  const input = Buffer.from(text(g), "latin1");
  return [input, ...REWRITES.map((r) => r.rewrite(input))].map((b) => b.toString("latin1"));
}

function check(g: Generated, [before, ...after]: Reading[]): void {
  assert.ok(before !== undefined && before.fields !== undefined, `Python reads the input: ${before?.error}`);
  // The generator's blocks are well formed: Python sees every field and the body.
  assert.equal(before.fields.length, g.fields.length, "Python reads every generated field");
  assert.equal(before.body, g.body, "Python reads the generated body");
  REWRITES.forEach(({ removed, subject }, i) => {
    const expected = before.fields
      ?.filter(([n]) => !removed.has(n.toLowerCase()))
      .map(([n, v]): [string, string] =>
        subject !== undefined && n.toLowerCase() === "subject" ? ["Subject", subject] : [n, v],
      );
    const got = after[i];
    assert.deepEqual(got?.fields, expected, `fields after rewrite ${i}`);
    assert.equal(got?.body, g.body, `body after rewrite ${i}`);
    assert.deepEqual(got?.defects, before.defects, `defects after rewrite ${i}`);
  });
}

test("oracle: Python reads the rewritten header fields and body exactly as expected", () => {
  const seed = Date.now() ^ (Math.random() * 0x7fffffff);
  const numRuns = 400;
  const cases = fc.sample(messageArb, { seed, numRuns });
  const readings = python(cases.flatMap(texts));
  const per = 1 + REWRITES.length;
  const failing = cases.findIndex((g, k) => {
    try {
      check(g, readings.slice(k * per, (k + 1) * per));
      return false;
    } catch {
      return true;
    }
  });
  if (failing === -1) return;
  // Shrink with one Python call per case (slow, only on failure); fast-check prints the seed.
  fc.assert(
    fc.property(messageArb, (g) => check(g, python(texts(g)))),
    { seed, numRuns },
  );
  const g = cases[failing] as Generated;
  try {
    check(g, readings.slice(failing * per, (failing + 1) * per));
  } catch (e) {
    assert.fail(`seed ${seed}, case ${JSON.stringify(text(g))}: ${(e as Error).message}`);
  }
});
