/**
 * A QR decoder for tests, written from ISO/IEC 18004:2015 separately from the
 * encoder (the `qrcode` package): it reads the format information (nearest
 * valid code), rebuilds the function pattern areas from the spec's tables,
 * unmasks, reads the codewords in the §7.7.3 order, checks every Reed-Solomon
 * block by its syndromes (all zero) and parses numeric, alphanumeric and byte
 * segments (§7.4.3-7.4.5). Level M, versions 1-14. Also samples a matrix out
 * of a screenshot.
 */

/** GF(2^8) with the field polynomial x^8+x^4+x^3+x^2+1 (§7.5.2). */
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ (x & 0x80 ? 0x11d : 0)) {
  EXP[i] = x;
  EXP[i + 255] = x;
  LOG[x] = i;
}
const gfMultiply = (a: number, b: number) =>
  a === 0 || b === 0 ? 0 : (EXP[(LOG[a] as number) + (LOG[b] as number)] as number);
const gfPow = (i: number) => EXP[i % 255] as number;

/** Table 9, level M, versions 1-14: [EC codewords per block, blocks, data codewords, blocks with one more]. */
const LEVEL_M: Array<[number, number, number, number]> = [
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
];

function blockLayout(version: number): { ecPerBlock: number; dataPerBlock: number[] } {
  const [ecPerBlock, g1, d1, g2] = LEVEL_M[version - 1] as [number, number, number, number];
  return {
    ecPerBlock,
    dataPerBlock: [...new Array<number>(g1).fill(d1), ...new Array<number>(g2).fill(d1 + 1)],
  };
}

/** Table 5: the 45 characters of alphanumeric mode. */
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** Annex E: alignment pattern centre coordinates, versions 1-14. */
const ALIGNMENT: number[][] = [
  [],
  [6, 18],
  [6, 22],
  [6, 26],
  [6, 30],
  [6, 34],
  [6, 22, 38],
  [6, 24, 42],
  [6, 26, 46],
  [6, 28, 50],
  [6, 30, 54],
  [6, 32, 58],
  [6, 34, 62],
  [6, 26, 46, 66],
];

/** Annex C: the 8 valid format codes of level M, by mask (data bits 00xxx). */
const FORMAT_M = [0x5412, 0x5125, 0x5e7c, 0x5b4b, 0x45f9, 0x40ce, 0x4f97, 0x4aa0];

const MASKS: Array<(i: number, j: number) => boolean> = [
  (i, j) => (i + j) % 2 === 0,
  (i) => i % 2 === 0,
  (_i, j) => j % 3 === 0,
  (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0,
  (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0,
  (i, j) => (((i + j) % 2) + ((i * j) % 3)) % 2 === 0,
];

export interface Decoded {
  text: string;
  version: number;
  mask: number;
}

export class QrDecodeError extends Error {}

function popcount(n: number): number {
  let c = 0;
  for (; n; n &= n - 1) c++;
  return c;
}

/** `m[y][x]`, true = dark, without quiet zone. */
export function decodeMatrix(m: boolean[][]): Decoded {
  const size = m.length;
  const version = (size - 17) / 4;
  if (!Number.isInteger(version) || version < 1 || version > ALIGNMENT.length)
    throw new QrDecodeError(`unsupported size ${size}`);
  const at = (x: number, y: number) => (m[y]?.[x] ? 1 : 0);

  // format information, first copy (§7.9.1, Figure 25), bit 14 first
  const coords: Array<[number, number]> = [];
  for (let x = 0; x <= 5; x++) coords.push([x, 8]);
  coords.push([7, 8], [8, 8], [8, 7]);
  for (let y = 5; y >= 0; y--) coords.push([8, y]);
  let read = 0;
  for (const [x, y] of coords) read = (read << 1) | at(x, y);
  let mask = -1;
  let best = 99;
  FORMAT_M.forEach((code, i) => {
    const d = popcount(code ^ read);
    if (d < best) {
      best = d;
      mask = i;
    }
  });
  if (best > 3) throw new QrDecodeError("format information unreadable (or not level M)");

  // function pattern areas
  const fn: boolean[][] = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const mark = (x0: number, y0: number, w: number, h: number) => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (fn[y]) fn[y][x] = true;
  };
  mark(0, 0, 9, 9); // finder, separator, format
  mark(size - 8, 0, 8, 9);
  mark(0, size - 8, 9, 8);
  mark(6, 0, 1, size);
  mark(0, 6, size, 1);
  const align = ALIGNMENT[version - 1] as number[];
  for (const cy of align)
    for (const cx of align) {
      if ((cx < 9 && cy < 9) || (cx > size - 9 && cy < 9) || (cx < 9 && cy > size - 9)) continue;
      mark(cx - 2, cy - 2, 5, 5);
    }
  if (version >= 7) {
    mark(size - 11, 0, 3, 6);
    mark(0, size - 11, 6, 3);
  }

  // codewords in placement order
  const bits: number[] = [];
  const maskFn = MASKS[mask] as (i: number, j: number) => boolean;
  let pair = 0;
  for (let right = size - 1; right >= 1; right -= 2, pair++) {
    if (right === 6) right = 5; // the vertical timing pattern is skipped
    const upward = pair % 2 === 0;
    for (let v = 0; v < size; v++) {
      const y = upward ? size - 1 - v : v;
      for (const x of [right, right - 1]) {
        if (fn[y]?.[x]) continue;
        bits.push(at(x, y) ^ (maskFn(y, x) ? 1 : 0));
      }
    }
  }
  const codewords: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) {
    let v = 0;
    for (let k = 0; k < 8; k++) v = (v << 1) | (bits[i + k] as number);
    codewords.push(v);
  }

  // de-interleave (§7.6) and check each block: c(α^i) = 0 for i < ec
  const { ecPerBlock, dataPerBlock } = blockLayout(version);
  const blocks = dataPerBlock.map(() => [] as number[]);
  let k = 0;
  const longest = Math.max(...dataPerBlock);
  for (let i = 0; i < longest; i++)
    dataPerBlock.forEach((n, b) => {
      if (i < n) blocks[b]?.push(codewords[k++] as number);
    });
  const data = blocks.flatMap((b) => b.slice());
  for (let i = 0; i < ecPerBlock; i++) for (const b of blocks) b.push(codewords[k++] as number);
  for (const [b, block] of blocks.entries()) {
    for (let i = 0; i < ecPerBlock; i++) {
      let s = 0;
      for (const c of block) s = gfMultiply(s, gfPow(i)) ^ c;
      if (s !== 0) throw new QrDecodeError(`block ${b}: syndrome ${i} is ${s}`);
    }
  }

  // segments (§7.4.3-7.4.5); character count bits by version range (Table 3)
  const range = version <= 9 ? 0 : 1;
  let pos = 0;
  const take = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = data[(pos + i) >> 3] ?? 0;
      v = (v << 1) | ((byte >> (7 - ((pos + i) & 7))) & 1);
    }
    pos += n;
    return v;
  };
  const out: number[] = [];
  const ascii = (s: string) => {
    for (const c of s) out.push(c.charCodeAt(0));
  };
  while (pos + 4 <= data.length * 8) {
    const mode = take(4);
    if (mode === 0) break;
    if (mode === 0b0001) {
      // numeric: groups of three digits in 10 bits, the rest in 7 or 4
      let count = take([10, 12][range] as number);
      for (; count >= 3; count -= 3) ascii(String(take(10)).padStart(3, "0"));
      if (count > 0) ascii(String(take(count === 2 ? 7 : 4)).padStart(count, "0"));
    } else if (mode === 0b0010) {
      // alphanumeric: pairs in 11 bits (45 × first + second), a last single in 6
      let count = take([9, 11][range] as number);
      for (; count >= 2; count -= 2) {
        const v = take(11);
        ascii(`${ALPHANUMERIC[Math.floor(v / 45)] ?? "?"}${ALPHANUMERIC[v % 45] ?? "?"}`);
      }
      if (count === 1) ascii(ALPHANUMERIC[take(6)] ?? "?");
    } else if (mode === 0b0100) {
      const count = take([8, 16][range] as number);
      for (let i = 0; i < count; i++) out.push(take(8));
    } else throw new QrDecodeError(`unexpected mode ${mode}`);
  }
  return { text: new TextDecoder().decode(Uint8Array.from(out)), version, mask };
}

/** Row-major 0/1 modules of an encoder result as a boolean matrix. */
export function toRows(modules: Uint8Array, size: number): boolean[][] {
  return Array.from({ length: size }, (_, y) =>
    Array.from({ length: size }, (_, x) => modules[y * size + x] === 1),
  );
}

/**
 * Finds a QR code in a grey-scale image (axis-aligned, as a browser renders
 * it) and samples its modules: looks for the top-left finder pattern (a dark
 * run of 7 modules whose middle row reads 1:1:3:1:1), then the top-right one
 * on the same rows, which gives module size and symbol size.
 */
export function sampleFromImage(gray: Uint8Array, width: number, height: number): boolean[][] {
  const dark = (x: number, y: number) => (gray[y * width + x] as number) < 128;
  for (let y = 0; y < height; y++) {
    let x = 0;
    while (x < width) {
      if (!dark(x, y)) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < width && dark(x, y)) x++;
      const run = x - x0;
      if (run < 14) continue;
      const unit = run / 7;
      if (!isFinder(dark, x0, y, unit, width, height)) continue;
      // the top-right finder: the next dark run of the same length on this row
      let x1 = x;
      while (x1 < width) {
        while (x1 < width && !dark(x1, y)) x1++;
        const s = x1;
        while (x1 < width && dark(x1, y)) x1++;
        if (Math.abs(x1 - s - run) <= 2 && isFinder(dark, s, y, unit, width, height)) {
          const size = Math.round((x1 - x0) / unit);
          const rows: boolean[][] = [];
          for (let r = 0; r < size; r++) {
            const row: boolean[] = [];
            for (let c = 0; c < size; c++)
              row.push(dark(Math.floor(x0 + (c + 0.5) * unit), Math.floor(y + (r + 0.5) * unit)));
            rows.push(row);
          }
          return rows;
        }
        if (x1 - s === 0) break;
      }
    }
  }
  throw new QrDecodeError("no QR code found in the image");
}

function isFinder(
  dark: (x: number, y: number) => boolean,
  x0: number,
  y0: number,
  unit: number,
  width: number,
  height: number,
): boolean {
  const expect = [1, 0, 1, 1, 1, 0, 1];
  for (let r = 0; r < 7; r++)
    for (let c = 0; c < 7; c++) {
      const x = Math.floor(x0 + (c + 0.5) * unit);
      const y = Math.floor(y0 + (r + 0.5) * unit);
      if (x >= width || y >= height) return false;
      const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
      const want = ring === 2 ? 0 : 1;
      if (r === 3 && (expect[c] as number) !== (dark(x, y) ? 1 : 0)) return false;
      if ((dark(x, y) ? 1 : 0) !== want) return false;
    }
  return true;
}

/** The QR code of an inline SVG as drawn by src/http/site/qr.ts, decoded. */
export function decodeSvg(html: string): string {
  const svg = /<svg[^>]*viewBox="0 0 (\d+) \1"[^>]*>.*?<\/svg>/s.exec(html);
  if (!svg) throw new QrDecodeError("no inline SVG");
  const size = Number(svg[1]) - 8;
  const rows = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const d = /<path fill="#000" d="([^"]*)"/.exec(svg[0])?.[1] ?? "";
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g))
    for (let i = 0; i < Number(m[3]); i++) (rows[Number(m[2]) - 4] as boolean[])[Number(m[1]) - 4 + i] = true;
  return decodeMatrix(rows).text;
}
