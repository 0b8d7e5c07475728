/**
 * Data masks and the penalty score that picks one (ISO/IEC 18004:2015 §7.8).
 * Matrices are row-major: `m[y * size + x]`, 1 = dark.
 */

/** The eight mask conditions of Table 10; i = row, j = column. */
export function maskBit(mask: number, i: number, j: number): boolean {
  switch (mask) {
    case 0:
      return (i + j) % 2 === 0;
    case 1:
      return i % 2 === 0;
    case 2:
      return j % 3 === 0;
    case 3:
      return (i + j) % 3 === 0;
    case 4:
      return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0;
    case 5:
      return ((i * j) % 2) + ((i * j) % 3) === 0;
    case 6:
      return (((i * j) % 2) + ((i * j) % 3)) % 2 === 0;
    case 7:
      return (((i + j) % 2) + ((i * j) % 3)) % 2 === 0;
    default:
      throw new RangeError("mask must be 0..7");
  }
}

/** Flips every non-function module where the mask condition holds. */
export function applyMask(modules: Uint8Array, isFunction: Uint8Array, size: number, mask: number): void {
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      if (!isFunction[y * size + x] && maskBit(mask, y, x)) modules[y * size + x] ^= 1;
}

const N1 = 3;
const N2 = 3;
const N3 = 40;
const N4 = 10;

/** 1:1:3:1:1 finder-like pattern with four light modules on one side (feature 3 of Table 11). */
const FINDER_LEFT = [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1];
const FINDER_RIGHT = [1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0];

function lineScore(get: (k: number) => number, size: number): number {
  let score = 0;
  // feature 1: runs of five or more modules of one colour
  let run = 1;
  for (let k = 1; k <= size; k++) {
    if (k < size && get(k) === get(k - 1)) {
      run++;
      continue;
    }
    if (run >= 5) score += N1 + (run - 5);
    run = 1;
  }
  // feature 3: finder-like patterns
  for (let k = 0; k + 11 <= size; k++) {
    let left = true;
    let right = true;
    for (let t = 0; t < 11 && (left || right); t++) {
      const v = get(k + t);
      if (v !== FINDER_LEFT[t]) left = false;
      if (v !== FINDER_RIGHT[t]) right = false;
    }
    if (left) score += N3;
    if (right) score += N3;
  }
  return score;
}

/** Penalty score of a masked symbol; the mask with the lowest score wins. */
export function penalty(m: Uint8Array, size: number): number {
  let score = 0;
  for (let y = 0; y < size; y++) score += lineScore((k) => m[y * size + k] as number, size);
  for (let x = 0; x < size; x++) score += lineScore((k) => m[k * size + x] as number, size);
  // feature 2: 2x2 blocks of one colour
  for (let y = 0; y + 1 < size; y++)
    for (let x = 0; x + 1 < size; x++) {
      const c = m[y * size + x];
      if (c === m[y * size + x + 1] && c === m[(y + 1) * size + x] && c === m[(y + 1) * size + x + 1])
        score += N2;
    }
  // feature 4: proportion of dark modules, 10 points per full 5 % away from 50 %
  let dark = 0;
  for (const v of m) dark += v;
  const percent = (dark * 100) / (size * size);
  score += Math.floor(Math.abs(percent - 50) / 5) * N4;
  return score;
}
