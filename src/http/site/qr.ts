/**
 * The website's QR code as a small inline SVG. The `qrcode` package encodes
 * (ISO/IEC 18004:2015: segments, Reed-Solomon, mask choice); this file only
 * draws its module matrix, synchronously, as one path of horizontal runs on a
 * white square with the four-module quiet zone of §6.3.8.
 */
import { createRequire } from "node:module";
import type * as QRCode from "qrcode";

/**
 * The encoder alone: the package's main module also loads its PNG, terminal and canvas
 * renderers (with pngjs), about 2.5 MiB of memory and 9 ms of start-up we have no use for.
 */
const { create } = createRequire(import.meta.url)("qrcode/lib/core/qrcode.js") as Pick<
  typeof QRCode,
  "create"
>;

const QUIET_ZONE = 4;

function escapeAttribute(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface QrSvgOptions {
  /** Accessible name (aria-label). */
  label: string;
  /** Rendered width and height in CSS pixels (default: 6 per module). */
  pixels?: number;
}

/** `text` (non-empty, at most 2331 bytes) at error correction level M as an `<svg>` element. */
export function qrSvg(text: string, opts: QrSvgOptions): string {
  const { size, data } = create(text, { errorCorrectionLevel: "M" }).modules;
  const full = size + 2 * QUIET_ZONE;
  const parts: string[] = [];
  for (let y = 0; y < size; y++) {
    let x = 0;
    while (x < size) {
      if (!data[y * size + x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && data[y * size + x]) x++;
      const run = x - start;
      parts.push(`M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${run}v1h-${run}z`);
    }
  }
  const px = opts.pixels ?? full * 6;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" width="${px}" height="${px}"` +
    ` shape-rendering="crispEdges" role="img" aria-label="${escapeAttribute(opts.label)}">` +
    `<rect width="${full}" height="${full}" fill="#fff"/>` +
    `<path fill="#000" d="${parts.join("")}"/></svg>`
  );
}
