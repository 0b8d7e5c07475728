/**
 * Sequence sets (RFC 3501 §9 sequence-set, RFC 9051 §9): "1:*", "5,7:9", "*".
 * `*` is the largest number in use; a range "a:b" is the same as "b:a" and is
 * inclusive. For UIDs a range past the last UID matches only existing messages
 * ("5:504" with max UID 3 matches nothing), while "n:*" with n > max still matches
 * the last message, because "*" is the last UID and the range is min..max.
 */
import type { Reader } from "./reader.ts";

/** One element; `null` stands for "*". */
export interface SeqRange {
  start: number | null;
  end: number | null;
}

export type SequenceSet = SeqRange[];

function seqNumber(r: Reader): number | null {
  if (r.take("*")) return null;
  return r.nzNumber();
}

export function parseSequenceSet(r: Reader): SequenceSet {
  const out: SequenceSet = [];
  for (;;) {
    const start = seqNumber(r);
    let end = start;
    if (r.take(":")) end = seqNumber(r);
    out.push({ start, end });
    if (!r.take(",")) return out;
  }
}

function bounds(range: SeqRange, max: number): [number, number] {
  const a = range.start ?? max;
  const b = range.end ?? max;
  return a <= b ? [a, b] : [b, a];
}

/**
 * The set with `*` resolved to `max` as disjoint, ascending, non-adjacent inclusive
 * ranges. A client may send tens of thousands of elements ("1:*,1:*,...") in one
 * command, so a set is sorted and merged once (O(r log r)) and only then walked: the
 * walk costs the messages selected, not ranges × messages.
 */
export function coalesceSequenceSet(set: SequenceSet, max: number): Array<[number, number]> {
  const ranges = set.map((r) => bounds(r, max));
  ranges.sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) {
      if (hi > last[1]) last[1] = hi;
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

/** Whether `n` lies in coalesced `ranges` (binary search, O(log r)). */
export function inCoalesced(ranges: ReadonlyArray<readonly [number, number]>, n: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]![1] < n) lo = mid + 1;
    else hi = mid;
  }
  const r = ranges[lo];
  return r !== undefined && r[0] <= n;
}

/**
 * Message sequence numbers selected by `set` for a mailbox of `count` messages,
 * ascending and unique. Returns null when a number lies outside 1..count (RFC 9051
 * §6.4.4 and RFC 3501 §9: such a set is invalid and the command gets BAD), or when
 * the mailbox is empty.
 */
export function resolveSequenceNumbers(set: SequenceSet, count: number): number[] | null {
  if (count === 0) return null;
  const ranges = coalesceSequenceSet(set, count);
  // Coalescing keeps the smallest and the largest number of the set.
  if (ranges.length > 0 && (ranges[0]![0] < 1 || ranges[ranges.length - 1]![1] > count)) return null;
  const out: number[] = [];
  for (const [lo, hi] of ranges) for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/** First index in ascending `sorted` whose value is >= x. */
function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Indexes into ascending `uids` of the messages `set` selects as a UID set, ascending
 * and unique. UIDs that do not exist are ignored (RFC 3501 §6.4.8).
 */
export function resolveUidIndexes(set: SequenceSet, uids: ArrayLike<number>): number[] {
  const n = uids.length;
  if (n === 0) return [];
  const out: number[] = [];
  let i = 0;
  for (const [lo, hi] of coalesceSequenceSet(set, uids[n - 1]!)) {
    // Ranges are disjoint and ascending, so each index is visited at most once.
    i = Math.max(i, lowerBound(uids, lo));
    for (; i < n && uids[i]! <= hi; i++) out.push(i);
    if (i >= n) break;
  }
  return out;
}

/** Ascending numbers → compact set text "1:3,5,7:9" (used in COPYUID, ESEARCH-like output). */
export function formatSequenceSet(numbers: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? String(numbers[i]) : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
