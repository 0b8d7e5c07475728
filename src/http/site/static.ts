/**
 * Serves an operator's own website from www_folder: GET/HEAD only, paths
 * resolved inside the folder (no "..", no hidden files, symbolic links must
 * stay inside), "index.html" for folders.
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".pdf": "application/pdf",
  ".woff2": "font/woff2",
  ".asc": "text/plain; charset=utf-8",
};

export interface StaticFile {
  path: string;
  size: number;
  mtime: Date;
  type: string;
}

/**
 * The file for a decoded URL path, a redirect for a folder without the
 * trailing slash, or undefined when there is none or the path is not allowed.
 * Never throws.
 */
export async function resolveStatic(
  root: string,
  urlPath: string,
): Promise<StaticFile | { redirect: string } | undefined> {
  if (urlPath.includes("\0") || urlPath.includes("\\")) return undefined;
  const segments = urlPath.split("/").filter((s) => s !== "");
  if (segments.some((s) => s === ".." || s.startsWith("."))) return undefined;
  try {
    const base = await realpath(root);
    let candidate = resolve(base, ...segments);
    if (candidate !== base && !candidate.startsWith(base + sep)) return undefined;
    let info = await stat(candidate);
    if (info.isDirectory()) {
      // relative links in the folder's index.html need the trailing slash
      if (!urlPath.endsWith("/")) return { redirect: `${encodeURI(urlPath)}/` };
      candidate = join(candidate, "index.html");
      info = await stat(candidate);
    }
    if (!info.isFile()) return undefined;
    const real = await realpath(candidate);
    if (!real.startsWith(base + sep)) return undefined;
    return {
      path: real,
      size: info.size,
      mtime: info.mtime,
      type: TYPES[extname(real).toLowerCase()] ?? "application/octet-stream",
    };
  } catch {
    return undefined;
  }
}

export function sendStatic(res: ServerResponse, file: StaticFile, head: boolean): void {
  res.writeHead(200, {
    "Content-Type": file.type,
    "Content-Length": file.size,
    "Last-Modified": file.mtime.toUTCString(),
    "Cache-Control": "public, max-age=300",
    "X-Content-Type-Options": "nosniff",
  });
  if (head) {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}
