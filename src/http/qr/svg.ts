/**
 * Renders a QR code as a small inline SVG: one path of horizontal runs on a
 * white square with the four-module quiet zone of ISO/IEC 18004:2015 §6.3.8.
 */
import type { QrCode } from "./encode.ts";

const QUIET_ZONE = 4;

function escapeAttribute(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface SvgOptions {
  /** Accessible name (aria-label). */
  label: string;
  /** Rendered width and height in CSS pixels. */
  pixels?: number;
}

export function qrSvg(qr: QrCode, opts: SvgOptions): string {
  const { size, modules } = qr;
  const full = size + 2 * QUIET_ZONE;
  const parts: string[] = [];
  for (let y = 0; y < size; y++) {
    let x = 0;
    while (x < size) {
      if (!modules[y * size + x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && modules[y * size + x]) x++;
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
