// The "is this mail encrypted" rule (RFC 3156 §4 PGP/MIME, as chatmail's
// filtermail applies it). Only this exact shape counts as encrypted:
//   multipart/encrypted with exactly two non-multipart parts,
//   part 1 application/pgp-encrypted whose body is "Version: 1",
//   part 2 application/octet-stream holding an armored PGP MESSAGE whose
//   packets are (PKESK | SKESK)* SEIPD.
// Plaintext, PGP/inline, signed-only mail and MDNs are all unencrypted.

import { decodedBody, isMultipart, type MimePart, type MimeShape, parseMimeShape } from "./mime-shape.ts";
import { checkArmoredPayload, type Direction } from "./openpgp.ts";

export type { Direction } from "./openpgp.ts";

export type EncryptionCheck = { ok: true; tags: number[] } | { ok: false; reason: string };

function partProblem(part: MimePart, index: number): string | null {
  if (part.ambiguous) return `part ${index} has duplicated MIME headers`;
  if (part.malformed) return `part ${index} has a malformed header line`;
  if (isMultipart(part)) return `part ${index} is itself multipart`;
  return null;
}

/** Explains why `msg` is or is not an encrypted message. */
export function checkEncrypted(msg: MimeShape | Buffer, direction: Direction): EncryptionCheck {
  let shape: MimeShape;
  if (Buffer.isBuffer(msg)) {
    const parsed = parseMimeShape(msg);
    if (!parsed.ok) return { ok: false, reason: parsed.error };
    shape = parsed.shape;
  } else {
    shape = msg;
  }
  if (shape.ambiguous) return { ok: false, reason: "ambiguous top-level Content-Type" };
  if (shape.contentType.mime !== "multipart/encrypted")
    return { ok: false, reason: "not multipart/encrypted" };
  const parts = shape.parts;
  if (parts === null) return { ok: false, reason: "multipart without boundary" };
  if (parts.length !== 2) return { ok: false, reason: `${parts.length} parts instead of 2` };
  const [version, payload] = parts as [MimePart, MimePart];
  const problem = partProblem(version, 1) ?? partProblem(payload, 2);
  if (problem !== null) return { ok: false, reason: problem };

  if (version.contentType.mime !== "application/pgp-encrypted") {
    return { ok: false, reason: "part 1 is not application/pgp-encrypted" };
  }
  const versionBody = decodedBody(version);
  if (versionBody === null || versionBody.toString("utf8").trim() !== "Version: 1") {
    return { ok: false, reason: "part 1 is not 'Version: 1'" };
  }

  if (payload.contentType.mime !== "application/octet-stream") {
    return { ok: false, reason: "part 2 is not application/octet-stream" };
  }
  const armored = decodedBody(payload);
  if (armored === null) return { ok: false, reason: "part 2 has an unknown transfer encoding" };
  return checkArmoredPayload(armored, direction);
}

/** True if `msg` is a PGP/MIME encrypted message (see `checkEncrypted`). */
export function isEncrypted(msg: MimeShape | Buffer, direction: Direction): boolean {
  return checkEncrypted(msg, direction).ok;
}
