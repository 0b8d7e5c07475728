// Secure-join exception (chatmail filtermail `is_securejoin`): the first
// message of the Delta Chat "setup contact" / "join group" protocol is sent
// before keys are exchanged, so it is plaintext. It is let through only in
// this exact shape, so the exception cannot carry a chat message:
//   header `Secure-Join: vc-request` or `vg-request`,
//   a multipart body with exactly one part, not multipart, text/plain,
//   whose body, trimmed and lower-cased, is "secure-join: vc-request" or
//   "secure-join: vg-request".

import { firstHeader } from "./headers.ts";
import { decodedBody, isMultipart, type MimeShape, parseMimeShape } from "./mime-shape.ts";

const HEADER_VALUES = new Set(["vc-request", "vg-request"]);
const BODY_VALUES = new Set(["secure-join: vc-request", "secure-join: vg-request"]);

export function isSecureJoin(msg: MimeShape | Buffer): boolean {
  let shape: MimeShape;
  if (Buffer.isBuffer(msg)) {
    const parsed = parseMimeShape(msg);
    if (!parsed.ok) return false;
    shape = parsed.shape;
  } else {
    shape = msg;
  }
  const header = firstHeader(shape.headers, "secure-join");
  if (header === undefined || !HEADER_VALUES.has(header)) return false;
  if (shape.ambiguous || !isMultipart(shape) || shape.parts === null) return false;
  if (shape.parts.length !== 1) return false;
  const part = shape.parts[0];
  if (part === undefined || part.ambiguous || part.malformed || isMultipart(part)) return false;
  if (part.contentType.mime !== "text/plain") return false;
  const body = decodedBody(part);
  if (body === null) return false;
  return BODY_VALUES.has(body.toString("utf8").trim().toLowerCase());
}
