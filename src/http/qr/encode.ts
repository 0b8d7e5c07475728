/**
 * A small QR code encoder (ISO/IEC 18004:2015): byte mode, error correction
 * level M, versions 1-40, automatic mask selection. Enough for the
 * `DCACCOUNT:https://<domain>/new` link on the website.
 */
import { applyMask, penalty } from "./mask.ts";
import { reedSolomonRemainder } from "./reed-solomon.ts";
import {
  alignmentPositions,
  blockLayout,
  byteCountBits,
  dataCodewords,
  MAX_VERSION,
  MIN_VERSION,
  sizeOf,
} from "./tables.ts";

export interface QrCode {
  version: number;
  /** Modules per side, without the quiet zone. */
  size: number;
  mask: number;
  /** Row-major, `modules[y * size + x]`, 1 = dark. */
  modules: Uint8Array;
}

export class QrCapacityError extends Error {}

/** Error correction level M in the format information (Table 12). */
const EC_LEVEL_M_BITS = 0b00;

function bitLength(version: number, bytes: number): number {
  return 4 + byteCountBits(version) + 8 * bytes;
}

/** §7.4: mode indicator, count, data, terminator, padding to the capacity. */
export function dataCodewordsFor(bytes: Uint8Array, version: number): Uint8Array {
  const capacity = dataCodewords(version);
  const bits: number[] = [];
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  put(0b0100, 4); // byte mode
  put(bytes.length, byteCountBits(version));
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, capacity * 8 - bits.length)); // terminator
  while (bits.length % 8 !== 0) bits.push(0);
  const out = new Uint8Array(capacity);
  for (let i = 0; i < bits.length / 8; i++) {
    let v = 0;
    for (let k = 0; k < 8; k++) v = (v << 1) | (bits[i * 8 + k] as number);
    out[i] = v;
  }
  for (let i = bits.length / 8, pad = 0; i < capacity; i++, pad ^= 1) out[i] = pad ? 0x11 : 0xec;
  return out;
}

/** §7.5-7.6: split into blocks, add error correction, interleave. */
export function finalCodewords(data: Uint8Array, version: number): Uint8Array {
  const { ecPerBlock, dataPerBlock } = blockLayout(version);
  const blocks: Uint8Array[] = [];
  const ecs: Uint8Array[] = [];
  let offset = 0;
  for (const n of dataPerBlock) {
    const block = data.subarray(offset, offset + n);
    offset += n;
    blocks.push(block);
    ecs.push(reedSolomonRemainder(block, ecPerBlock));
  }
  const out: number[] = [];
  const longest = Math.max(...dataPerBlock);
  for (let i = 0; i < longest; i++) for (const b of blocks) if (i < b.length) out.push(b[i] as number);
  for (let i = 0; i < ecPerBlock; i++) for (const e of ecs) out.push(e[i] as number);
  return Uint8Array.from(out);
}

/** BCH(15,5) format information with the 101010000010010 mask (§7.9.1). */
export function formatBits(mask: number): number {
  const data = (EC_LEVEL_M_BITS << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | (rem & 0x3ff)) ^ 0x5412;
}

/** BCH(18,6) version information (§7.10, versions 7 and up). */
export function versionBits(version: number): number {
  let rem = version;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (version << 12) | (rem & 0xfff);
}

class Matrix {
  readonly modules: Uint8Array;
  readonly isFunction: Uint8Array;

  constructor(readonly size: number) {
    this.modules = new Uint8Array(size * size);
    this.isFunction = new Uint8Array(size * size);
  }

  set(x: number, y: number, dark: boolean): void {
    this.modules[y * this.size + x] = dark ? 1 : 0;
    this.isFunction[y * this.size + x] = 1;
  }

  /** Finder pattern with its separator, centred on (cx, cy) (§6.3.3). */
  finder(cx: number, cy: number): void {
    for (let dy = -4; dy <= 4; dy++)
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= this.size || y >= this.size) continue;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        this.set(x, y, d !== 2 && d !== 4);
      }
  }

  alignment(cx: number, cy: number): void {
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++) this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
  }

  format(mask: number): void {
    const bits = formatBits(mask);
    const bit = (i: number) => ((bits >>> i) & 1) === 1;
    const s = this.size;
    // copy around the top-left finder
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    // copy split between the other two finders
    for (let i = 0; i < 8; i++) this.set(s - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, s - 15 + i, bit(i));
    this.set(8, s - 8, true); // the dark module
  }

  version(version: number): void {
    if (version < 7) return;
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = this.size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      this.set(a, b, dark);
      this.set(b, a, dark);
    }
  }
}

function functionPatterns(version: number): Matrix {
  const m = new Matrix(sizeOf(version));
  const s = m.size;
  for (let i = 0; i < s; i++) {
    m.set(6, i, i % 2 === 0);
    m.set(i, 6, i % 2 === 0);
  }
  m.finder(3, 3);
  m.finder(s - 4, 3);
  m.finder(3, s - 4);
  const pos = alignmentPositions(version);
  const last = pos.length - 1;
  for (let i = 0; i < pos.length; i++)
    for (let j = 0; j < pos.length; j++) {
      // the three corners with finder patterns get none
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) continue;
      m.alignment(pos[i] as number, pos[j] as number);
    }
  m.format(0); // reserve; drawn again with the chosen mask
  m.version(version);
  return m;
}

/** §7.7.3: two-module columns from the right, upwards and downwards in turn. */
function placeCodewords(m: Matrix, codewords: Uint8Array): void {
  const s = m.size;
  let i = 0;
  const total = codewords.length * 8;
  for (let right = s - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5; // skip the vertical timing pattern
    const upward = ((right + 1) & 2) === 0;
    for (let vert = 0; vert < s; vert++) {
      const y = upward ? s - 1 - vert : vert;
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        if (m.isFunction[y * s + x]) continue;
        if (i < total) {
          m.modules[y * s + x] = ((codewords[i >>> 3] as number) >>> (7 - (i & 7))) & 1;
          i++;
        }
      }
    }
  }
}

/** Smallest version whose level-M byte-mode capacity holds `length` bytes. */
export function chooseVersion(length: number): number {
  for (let v = MIN_VERSION; v <= MAX_VERSION; v++) if (bitLength(v, length) <= dataCodewords(v) * 8) return v;
  throw new QrCapacityError(`${length} bytes do not fit into a QR code at level M`);
}

export interface EncodeOptions {
  /** Force a version instead of the smallest that fits. */
  version?: number;
  /** Force a mask instead of the lowest penalty. */
  mask?: number;
}

export function encodeQr(text: string | Uint8Array, opts: EncodeOptions = {}): QrCode {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const version = opts.version ?? chooseVersion(bytes.length);
  if (version < MIN_VERSION || version > MAX_VERSION) throw new RangeError("QR version out of range");
  if (bitLength(version, bytes.length) > dataCodewords(version) * 8)
    throw new QrCapacityError(`${bytes.length} bytes do not fit into version ${version}`);
  const base = functionPatterns(version);
  placeCodewords(base, finalCodewords(dataCodewordsFor(bytes, version), version));

  const candidates = opts.mask === undefined ? [0, 1, 2, 3, 4, 5, 6, 7] : [opts.mask];
  let best: QrCode | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const mask of candidates) {
    const m = new Matrix(base.size);
    m.modules.set(base.modules);
    m.isFunction.set(base.isFunction);
    applyMask(m.modules, m.isFunction, m.size, mask);
    m.format(mask);
    const score = candidates.length === 1 ? 0 : penalty(m.modules, m.size);
    if (score < bestScore) {
      bestScore = score;
      best = { version, size: m.size, mask, modules: m.modules };
    }
  }
  return best as QrCode;
}
