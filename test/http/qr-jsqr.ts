/**
 * A second, independent QR reader for the website's code: the page's inline SVG is
 * drawn into an RGBA pixel buffer (white background, the black path's subpaths
 * filled by the even-odd rule at pixel centres) and handed to jsQR, a maintained
 * decoder from npm that shares nothing with the `qrcode` encoder or qr-decode.ts.
 */
import { createRequire } from "node:module";

// jsqr is a CommonJS bundle whose typings declare an ES default export.
const jsqrModule = createRequire(import.meta.url)("jsqr") as { default?: typeof import("jsqr").default };
const jsQR = (jsqrModule.default ?? jsqrModule) as typeof import("jsqr").default;

const SCALE = 4; // pixels per SVG user unit (one module)

/** Subpaths of an SVG path made of M/m, H/h, V/v, L/l and Z/z commands, as polygons. */
function polygons(d: string): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  let current: Array<[number, number]> = [];
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of d.matchAll(/([MmHhVvLlZz])([^MmHhVvLlZz]*)/g)) {
    const n = (args ?? "")
      .trim()
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    const rel = cmd === (cmd ?? "").toLowerCase();
    switch ((cmd ?? "").toLowerCase()) {
      case "m":
      case "l":
        for (let i = 0; i + 1 < n.length; i += 2) {
          x = (rel ? x : 0) + (n[i] as number);
          y = (rel ? y : 0) + (n[i + 1] as number);
          if (cmd?.toLowerCase() === "m" && i === 0) {
            if (current.length > 0) out.push(current);
            current = [];
          }
          current.push([x, y]);
        }
        break;
      case "h":
        for (const v of n) current.push([(x = (rel ? x : 0) + v), y]);
        break;
      case "v":
        for (const v of n) current.push([x, (y = (rel ? y : 0) + v)]);
        break;
      default: // z: close, the current point goes back to the subpath's start
        if (current.length > 0) {
          out.push(current);
          [x, y] = current[0] as [number, number];
          current = [];
        }
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

function inside(poly: Array<[number, number]>, px: number, py: number): boolean {
  let odd = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i] as [number, number];
    const [xj, yj] = poly[j] as [number, number];
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

/** Draws the first inline SVG of `html` and returns what jsQR reads (UTF-8), or null. */
export function jsqrDecodeSvg(html: string): string | null {
  const svg = /<svg[^>]*viewBox="0 0 (\d+) (\d+)"[^>]*>.*?<\/svg>/s.exec(html);
  if (!svg) return null;
  const [w, h] = [Number(svg[1]) * SCALE, Number(svg[2]) * SCALE];
  const pixels = new Uint8ClampedArray(w * h * 4).fill(255);
  for (const [, d] of svg[0].matchAll(/<path fill="#000" d="([^"]*)"/g)) {
    for (const poly of polygons(d ?? "")) {
      const xs = poly.map((p) => p[0]);
      const ys = poly.map((p) => p[1]);
      for (let py = Math.max(0, Math.min(...ys) * SCALE); py < Math.min(h, Math.max(...ys) * SCALE); py++)
        for (let px = Math.max(0, Math.min(...xs) * SCALE); px < Math.min(w, Math.max(...xs) * SCALE); px++)
          if (inside(poly, (px + 0.5) / SCALE, (py + 0.5) / SCALE))
            pixels.fill(0, (py * w + px) * 4, (py * w + px) * 4 + 3);
    }
  }
  const code = jsQR(pixels, w, h, { inversionAttempts: "dontInvert" });
  return code === null ? null : Buffer.from(code.binaryData).toString("utf8");
}
