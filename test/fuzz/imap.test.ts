/**
 * Short fuzzing run of the IMAP command parser with a live session
 * (targets/imap.ts for the properties), and the framer fed random chunkings
 * (fast-check, with this run's seed). `npm run fuzz -- imap` runs longer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Framer } from "../../src/imap/wire/framer.ts";
import { ciRun } from "./lib/ci.ts";
import { chooseSeed } from "./lib/engine.ts";
import { framing, openImapLive, responseProblem } from "./targets/imap.ts";

test("the harness's response checker and literal completion", () => {
  assert.equal(responseProblem("* 1 FETCH (BODY[] {3}\r\n\x00\xff\n)\r\n"), null);
  assert.equal(responseProblem("a.b[1] BAD x\r\n"), null);
  assert.notEqual(responseProblem("* BAD caf\xc3\xa9\r\n"), null);
  assert.notEqual(responseProblem("a1 MAYBE\r\n"), null);
  assert.notEqual(responseProblem("a1 NO [SERVERBUG] Internal error\r\n"), null);
  assert.equal(framing(Buffer.from("a APPEND x {5}\r\nab\r\n")).filler?.toString(), "x\r\n");
  assert.equal(framing(Buffer.from("a APPEND x {2+}\r\nab)\r\n")).filler?.length, 0);
  assert.equal(framing(Buffer.from("a LOGIN {99999999}\r\n")).filler, null);
});

test("fuzz: the framer never throws, however the stream is chunked", () => {
  const seed = chooseSeed();
  console.log(`# framer: fast-check seed ${seed} (reproduce with FUZZ_SEED=${seed})`);
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 40 }),
      fc.boolean(),
      (chunks, lineMode) => {
        const f = new Framer({
          maxLine: 100,
          maxDiscard: 200,
          limits: () => ({ literal: 50, command: 300 }),
        });
        if (lineMode) f.mode = "line";
        for (const c of chunks) {
          f.push(Buffer.from(c));
          for (let frame = f.next(); frame; frame = f.next()) assert.ok(frame.kind);
        }
      },
    ),
    { numRuns: 3000, seed },
  );
});

test("fuzz: mutated Delta Chat commands in a live, logged-in IMAP session", async () => {
  const live = await openImapLive();
  try {
    await ciRun(live.target, 12, 200);
    console.log(`# imap: ${JSON.stringify(live.stats)}`);
  } finally {
    await live.close();
  }
});
