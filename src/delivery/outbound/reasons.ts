/**
 * Generic reasons for failed outbound connections. Queue errors and bounce
 * texts carry these, or the remote server's own SMTP reply, never a raw socket
 * error: "connect ECONNREFUSED 10.0.0.5:25" would tell a sender where the
 * relay's network reaches. The raw error goes to the debug log only.
 */

interface NetError {
  code?: unknown;
  originalCode?: unknown;
  message?: unknown;
  response?: unknown;
}

const TLS_CODES = new Set([
  "ETLS",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** A server's reply line: three digits, then a space or the end (RFC 5321 §4.2). */
const REPLY_LINE = /^[2-5][0-5]\d(?: [^\r\n]*)?$/;

function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return (end < 0 ? text : text.slice(0, end)).slice(0, 300);
}

/** A short, generic description of why a connection to a mail server failed. */
export function connectionReason(err: unknown): string {
  const e = (typeof err === "object" && err !== null ? err : {}) as NetError;
  const response = typeof e.response === "string" ? firstLine(e.response.trim()) : "";
  // the server's own reply (a refusing greeting, a failed STARTTLS) is its to tell
  if (REPLY_LINE.test(response)) return `server replied: ${response}`;
  const code = String(e.originalCode ?? e.code ?? "");
  const message = typeof e.message === "string" ? e.message : "";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection reset";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "host unreachable";
  if (code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT" || message === "timeout") return "timed out";
  // what was wrong with the remote's certificate is the remote's own, public fact
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID")
    return "TLS failed: certificate not valid now";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "TLS failed: certificate is for another name";
  if (TLS_CODES.has(code) && code !== "ETLS") return "TLS failed: certificate not trusted";
  if (TLS_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) return "TLS failed";
  if (code === "EPROTOCOL") return "protocol error";
  return "connection failed";
}
