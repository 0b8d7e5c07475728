/**
 * Reed-Solomon error correction codewords over GF(2^8) as QR codes use them
 * (ISO/IEC 18004:2015 §7.5.2): field polynomial x^8+x^4+x^3+x^2+1 (0x11D),
 * generator polynomial (x - α^0)(x - α^1)…(x - α^(n-1)).
 */

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255] as number;
}

/** Product of two field elements. */
export function gfMultiply(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[(LOG[a] as number) + (LOG[b] as number)] as number;
}

/** α^i. */
export function gfPow(i: number): number {
  return EXP[i % 255] as number;
}

const divisors = new Map<number, Uint8Array>();

/**
 * Coefficients of the generator polynomial of the given degree, highest power
 * first, the leading 1 left out.
 */
export function generatorPolynomial(degree: number): Uint8Array {
  const cached = divisors.get(degree);
  if (cached) return cached;
  if (!Number.isInteger(degree) || degree < 1 || degree > 254) throw new RangeError("degree out of range");
  const result = new Uint8Array(degree);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    // multiply the current product by (x - root)
    for (let j = 0; j < degree; j++) {
      result[j] = gfMultiply(result[j] as number, root);
      if (j + 1 < degree) result[j] = (result[j] as number) ^ (result[j + 1] as number);
    }
    root = gfMultiply(root, 0x02);
  }
  divisors.set(degree, result);
  return result;
}

/** The `degree` error correction codewords for a block of data codewords. */
export function reedSolomonRemainder(data: Uint8Array | readonly number[], degree: number): Uint8Array {
  const divisor = generatorPolynomial(degree);
  const result = new Uint8Array(degree);
  for (const b of data) {
    const factor = b ^ (result[0] as number);
    result.copyWithin(0, 1);
    result[degree - 1] = 0;
    for (let i = 0; i < degree; i++)
      result[i] = (result[i] as number) ^ gfMultiply(divisor[i] as number, factor);
  }
  return result;
}
