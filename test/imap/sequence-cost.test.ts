/**
 * Sequence sets cost O(ranges log ranges + messages), not ranges × messages: a 64 KiB
 * command line of "1:*,1:*,..." is coalesced before it is walked. Results are the same
 * as the plain definition (RFC 3501 §9 sequence-set), checked against a naive version.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import {
  coalesceSequenceSet,
  inCoalesced,
  resolveSequenceNumbers,
  resolveUidIndexes,
  type SeqRange,
  type SequenceSet,
} from "../../src/imap/wire/sequence.ts";
import { type ImapHarness, message, startImap } from "./support/harness.ts";
import { loggedIn } from "./support/raw-client.ts";

const ALL = (n: number): SequenceSet => Array.from({ length: n }, () => ({ start: 1, end: null }));

/** An ascending UID array that counts how often it is read. */
function countingUids(n: number): { uids: ArrayLike<number>; reads: () => number } {
  const backing = Array.from({ length: n }, (_, i) => 3 * i + 1);
  let reads = 0;
  const uids = new Proxy(backing, {
    get(target, key, receiver) {
      if (typeof key === "string" && key !== "length") reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { uids, reads: () => reads };
}

test("a UID set of 2,000 × 1:* over 2,000 messages reads each UID about once", () => {
  const { uids, reads } = countingUids(2000);
  const out = resolveUidIndexes(ALL(2000), uids);
  assert.equal(out.length, 2000);
  // The walk before coalescing read ranges × messages (4,000,000) UIDs.
  assert.ok(reads() < 10 * (2000 + 2000), `${reads()} reads of the UID array`);
});

test("10,000 × 1:* over a view of 10,000 messages resolves quickly", () => {
  const set = ALL(10_000);
  const uids = Array.from({ length: 10_000 }, (_, i) => i + 1);
  const t0 = performance.now();
  assert.equal(resolveUidIndexes(set, uids).length, 10_000);
  assert.equal(resolveSequenceNumbers(set, 10_000)?.length, 10_000);
  const ranges = coalesceSequenceSet(set, 10_000);
  for (let n = 1; n <= 10_000; n++) assert.ok(inCoalesced(ranges, n));
  const ms = performance.now() - t0;
  // Generous: it takes a few ms; the walk before coalescing took ~600 ms for the UIDs alone.
  assert.ok(ms < 200, `${ms.toFixed(0)} ms`);
});

// The definition, element by element.
function naiveBounds(r: SeqRange, max: number): [number, number] {
  const a = r.start ?? max;
  const b = r.end ?? max;
  return [Math.min(a, b), Math.max(a, b)];
}
function naiveIn(set: SequenceSet, n: number, max: number): boolean {
  return set.some((r) => {
    const [lo, hi] = naiveBounds(r, max);
    return lo <= n && n <= hi;
  });
}
function naiveSeq(set: SequenceSet, count: number): number[] | null {
  if (count === 0) return null;
  for (const r of set) {
    const [lo, hi] = naiveBounds(r, count);
    if (lo < 1 || hi > count) return null;
  }
  const out: number[] = [];
  for (let n = 1; n <= count; n++) if (naiveIn(set, n, count)) out.push(n);
  return out;
}
function naiveUid(set: SequenceSet, uids: number[]): number[] {
  if (uids.length === 0) return [];
  const max = uids[uids.length - 1]!;
  return uids.flatMap((u, i) => (naiveIn(set, u, max) ? [i] : []));
}

const seqNumber = (top: number) => fc.option(fc.integer({ min: 1, max: top }), { nil: null, freq: 5 });
const setArb = (top: number) =>
  fc.array(
    // A single number "n" has start === end; ranges may be either way round.
    fc
      .tuple(seqNumber(top), seqNumber(top), fc.boolean())
      .map(([start, end, single]) => ({ start, end: single ? start : end })),
    { minLength: 1, maxLength: 12 },
  );

test("property: sequence numbers match the definition", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), setArb(45), (count, set) => {
      assert.deepEqual(resolveSequenceNumbers(set, count), naiveSeq(set, count));
    }),
    { numRuns: 500 },
  );
});

test("property: UID sets and SEARCH membership match the definition", () => {
  const uidsArb = fc
    .uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 30 })
    .map((a) => a.sort((x, y) => x - y));
  fc.assert(
    fc.property(uidsArb, setArb(65), (uids, set) => {
      assert.deepEqual(resolveUidIndexes(set, uids), naiveUid(set, uids));
      const max = uids.length === 0 ? 1 : uids[uids.length - 1]!;
      const ranges = coalesceSequenceSet(set, max);
      for (let n = 0; n <= 66; n++) assert.equal(inCoalesced(ranges, n), naiveIn(set, n, max), `n=${n}`);
    }),
    { numRuns: 500 },
  );
});

let h: ImapHarness;
before(async () => {
  h = await startImap();
});
after(() => h.close());

test("live: UID FETCH and SEARCH with a 60 KB set of 1:* over 1,000 messages", async () => {
  const user = await h.newUser();
  for (let i = 0; i < 1000; i++) await h.deliver([user], message({ subject: `m${i}` }));
  const c = await loggedIn(h.port, user, h.password);
  await c.command("s", "SELECT INBOX");
  const set = Array.from({ length: 15_000 }, () => "1:*").join(",");
  const t0 = performance.now();
  const search = await c.command("a", `UID SEARCH UID ${set}`);
  assert.equal(search[search.length - 1], "a OK Search completed.\r\n");
  assert.equal(search[0]!.trim().split(" ").length - 2, 1000);
  const fetch = await c.command("b", `UID FETCH ${set} (UID)`);
  assert.equal(fetch.length, 1001);
  const seq = await c.command("d", `SEARCH ${set}`);
  assert.equal(seq[0]!.trim().split(" ").length - 2, 1000);
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `${ms.toFixed(0)} ms for three commands`);
  c.close();
});
