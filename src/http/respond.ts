/** Small helpers for writing complete HTTP responses with node:http. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { canonicalIp } from "../policy/ip.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
  head = false,
): void {
  const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    ...headers,
    "Content-Length": data.length,
  });
  res.end(head ? undefined : data);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(res, status, `${JSON.stringify(value)}\n`, {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    ...headers,
  });
}

export function redirect(res: ServerResponse, location: string, head = false): void {
  send(res, 301, `Moved to ${location}\n`, { Location: location }, head);
}

export function notFound(res: ServerResponse, head = false): void {
  send(res, 404, "Not found\n", {}, head);
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  send(res, 405, "Method not allowed\n", { Allow: allow });
}

/** The peer's address in canonical form ("192.0.2.1", IPv4-mapped IPv6 unwrapped). */
export function peerIp(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? "";
  return canonicalIp(raw) ?? raw;
}

/** Host header without port, lower case; "" when absent or malformed. */
export function requestHost(req: IncomingMessage): string {
  const host = (req.headers.host ?? "").toLowerCase();
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(:\d{1,5})?$/.test(host)) return "";
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
}

/** The path of the request URL without query, percent-decoded; undefined if undecodable. */
export function requestPath(req: IncomingMessage): string | undefined {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const raw = q < 0 ? url : url.slice(0, q);
  if (!raw.startsWith("/")) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
