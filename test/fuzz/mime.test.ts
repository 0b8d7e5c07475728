/**
 * Short fuzzing run of the MIME and OpenPGP walkers (targets/mime.ts for the
 * properties); `npm run fuzz -- mime` runs it for longer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ciRun } from "./lib/ci.ts";
import { imapListProblem, mimeTarget } from "./targets/mime.ts";

test("the IMAP list checker accepts lists and refuses broken ones", () => {
  assert.equal(imapListProblem(Buffer.from('("a" NIL 12 {3}\r\n)"( ("x\\"y"))')), null);
  for (const bad of ['("a"', "(a))", '("a\r\nb")', "(a) b", "({9}\r\nab)", "a"])
    assert.notEqual(imapListProblem(Buffer.from(bad)), null, bad);
});

test("fuzz: MIME shape, OpenPGP armor and packets, BODYSTRUCTURE and ENVELOPE", async () => {
  await ciRun(mimeTarget(), 10, 1000);
});
