/**
 * Version-dependent constants of QR codes at error correction level M
 * (ISO/IEC 18004:2015 Table 9) and the geometry helpers that follow from the
 * version number alone.
 */

export const MIN_VERSION = 1;
export const MAX_VERSION = 40;

/** Level M, per version: [EC codewords per block, blocks of group 1, data cw per block of group 1, blocks of group 2]. Group 2 blocks hold one data codeword more. */
const LEVEL_M: ReadonlyArray<readonly [number, number, number, number]> = [
  [10, 1, 16, 0],
  [16, 1, 28, 0],
  [26, 1, 44, 0],
  [18, 2, 32, 0],
  [24, 2, 43, 0],
  [16, 4, 27, 0],
  [18, 4, 31, 0],
  [22, 2, 38, 2],
  [22, 3, 36, 2],
  [26, 4, 43, 1],
  [30, 1, 50, 4],
  [22, 6, 36, 2],
  [22, 8, 37, 1],
  [24, 4, 40, 5],
  [24, 5, 41, 5],
  [28, 7, 45, 3],
  [28, 10, 46, 1],
  [26, 9, 43, 4],
  [26, 3, 44, 11],
  [26, 3, 41, 13],
  [26, 17, 42, 0],
  [28, 17, 46, 0],
  [28, 4, 47, 14],
  [28, 6, 45, 14],
  [28, 8, 47, 13],
  [28, 19, 46, 4],
  [28, 22, 45, 3],
  [28, 3, 45, 23],
  [28, 21, 45, 7],
  [28, 19, 47, 10],
  [28, 2, 46, 29],
  [28, 10, 46, 23],
  [28, 14, 46, 21],
  [28, 14, 46, 23],
  [28, 12, 47, 26],
  [28, 6, 47, 34],
  [28, 29, 46, 14],
  [28, 13, 46, 32],
  [28, 40, 47, 7],
  [28, 18, 47, 31],
];

export interface BlockLayout {
  ecPerBlock: number;
  /** Data codewords of each block, in order. */
  dataPerBlock: number[];
}

export function blockLayout(version: number): BlockLayout {
  const row = LEVEL_M[version - 1];
  if (!row) throw new RangeError(`QR version ${version} out of range`);
  const [ecPerBlock, g1, d1, g2] = row;
  const dataPerBlock: number[] = [];
  for (let i = 0; i < g1; i++) dataPerBlock.push(d1);
  for (let i = 0; i < g2; i++) dataPerBlock.push(d1 + 1);
  return { ecPerBlock, dataPerBlock };
}

/** Number of data codewords (before error correction) at level M. */
export function dataCodewords(version: number): number {
  return blockLayout(version).dataPerBlock.reduce((a, b) => a + b, 0);
}

/** Modules per side: 17 + 4·version (§6.3.1). */
export function sizeOf(version: number): number {
  return 17 + 4 * version;
}

/**
 * Modules available for codewords and remainder bits: everything but the
 * function patterns, format and version information (§6.4.10, Table 1).
 */
export function rawDataModules(version: number): number {
  let result = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const numAlign = Math.floor(version / 7) + 2;
    result -= (25 * numAlign - 10) * numAlign - 55;
    if (version >= 7) result -= 36;
  }
  return result;
}

/** Centre coordinates of alignment patterns on each axis (§6.3.6, Annex E). */
export function alignmentPositions(version: number): number[] {
  if (version === 1) return [];
  const numAlign = Math.floor(version / 7) + 2;
  const step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (numAlign * 2 - 2)) * 2;
  const result = [6];
  for (let pos = sizeOf(version) - 7; result.length < numAlign; pos -= step) result.splice(1, 0, pos);
  return result;
}

/** Bits of the character count indicator in byte mode (Table 3). */
export function byteCountBits(version: number): number {
  return version <= 9 ? 8 : 16;
}
