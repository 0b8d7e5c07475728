// The OpenPGP shape check of the encryption gate: ASCII armor (RFC 4880 §6,
// RFC 9580 §6) and a walk over packet headers (RFC 9580 §4.2). No
// cryptography: the relay only checks that the payload is a sequence of
// session-key packets followed by exactly one encrypted-data packet.

export const TAG_PKESK = 1;
export const TAG_SKESK = 3;
export const TAG_SEIPD = 18;

/** RFC 9580 §4.2.1.4: compressed (8), SED (9), literal (11), SEIPD (18). */
const DATA_TAGS: ReadonlySet<number> = new Set([8, 9, 11, TAG_SEIPD]);

export type Direction = "outgoing" | "incoming";

import { decodeBase64Lines } from "./base64.ts";

export type WalkResult = { ok: true; tags: number[] } | { ok: false; reason: string; tags: number[] };

/**
 * Walks the packet headers of `data`. Accepts exactly (PKESK | SKESK)* SEIPD,
 * with the SEIPD ending at the last byte. OpenPGP-format headers (RFC 9580
 * §4.2.1) may use partial body lengths on the SEIPD only; Legacy-format headers (§4.2.2, still
 * written by GnuPG) are accepted with 1-, 2- or 4-octet lengths but not with
 * indeterminate length.
 */
export function walkPackets(data: Uint8Array): WalkResult {
  const n = data.length;
  const tags: number[] = [];
  let i = 0;
  const truncated = (): WalkResult => ({ ok: false, reason: "truncated packet header", tags });
  while (i < n) {
    const ctb = data[i] as number;
    let tag: number;
    let bodyLen: number;
    if ((ctb & 0xc0) === 0xc0) {
      tag = ctb & 0x3f;
      i += 1;
      // §4.2.1.4: partial body lengths, each followed by another length, are
      // allowed only on data packets (literal, compressed, encrypted), never
      // on session-key packets.
      if (i < n && (data[i] as number) >= 224 && (data[i] as number) < 255 && !DATA_TAGS.has(tag)) {
        tags.push(tag);
        return { ok: false, reason: `partial body length on packet with tag ${tag}`, tags };
      }
      while (i < n && (data[i] as number) >= 224 && (data[i] as number) < 255) {
        i += 1 + 2 ** ((data[i] as number) & 0x1f);
      }
      if (i >= n) return truncated();
      const b0 = data[i] as number;
      if (b0 < 192) {
        bodyLen = b0;
        i += 1;
      } else if (b0 < 224) {
        if (i + 1 >= n) return truncated();
        bodyLen = ((b0 - 192) << 8) + (data[i + 1] as number) + 192;
        i += 2;
      } else {
        if (i + 4 >= n) return truncated();
        bodyLen =
          (data[i + 1] as number) * 2 ** 24 +
          ((data[i + 2] as number) << 16) +
          ((data[i + 3] as number) << 8) +
          (data[i + 4] as number);
        i += 5;
      }
    } else if ((ctb & 0xc0) === 0x80) {
      tag = (ctb & 0x3c) >> 2;
      const lengthType = ctb & 0x03;
      i += 1;
      if (lengthType === 3) {
        tags.push(tag);
        return { ok: false, reason: "legacy packet with indeterminate length", tags };
      }
      const octets = lengthType === 0 ? 1 : lengthType === 1 ? 2 : 4;
      if (i + octets > n) return truncated();
      bodyLen = 0;
      for (let k = 0; k < octets; k++) bodyLen = bodyLen * 256 + (data[i + k] as number);
      i += octets;
    } else {
      return { ok: false, reason: `not a packet header at offset ${i}`, tags };
    }
    tags.push(tag);
    i += bodyLen;
    if (i === n) {
      if (tag === TAG_SEIPD) return { ok: true, tags };
      return { ok: false, reason: `last packet has tag ${tag}, not SEIPD`, tags };
    }
    if (i > n) return { ok: false, reason: "packet body runs past the end", tags };
    if (tag !== TAG_PKESK && tag !== TAG_SKESK) {
      return { ok: false, reason: `packet with tag ${tag} before the end`, tags };
    }
  }
  return { ok: false, reason: "no packets", tags };
}

export type DearmorResult = { ok: true; data: Buffer } | { ok: false; reason: string };

const BEGIN = Buffer.from("-----BEGIN PGP MESSAGE-----\r\n", "latin1");
const END = Buffer.from("-----END PGP MESSAGE-----", "latin1");
const VERSION = Buffer.from("Version: ", "latin1");
const CRLF = Buffer.from("\r\n", "latin1");
const CR = 0x0d;
const LF = 0x0a;

function startsWithAt(buf: Buffer, at: number, end: number, prefix: Buffer): boolean {
  return end - at >= prefix.length && buf.subarray(at, at + prefix.length).equals(prefix);
}

/**
 * Removes the ASCII armor of a PGP MESSAGE in the shape chatmail accepts:
 * the text starts with the BEGIN line and CRLF, ends (after trailing CRLFs)
 * with the END line; a `Version: ` armor header is refused on outgoing mail
 * and its line skipped on incoming mail (Proton, GopenPGP); then empty lines
 * are skipped, the CRC24 line is dropped, and the rest must be base64.
 *
 * The CRC24 line is only recognised as a line of its own starting with "="
 * (RFC 4880 §6.2). RFC 9580 §6.1 makes it optional and forbids it after a v2
 * SEIPD, so an armor without it whose base64 ends in "=" padding is valid.
 */
export function dearmor(armored: Buffer | string, direction: Direction): DearmorResult {
  const buf = typeof armored === "string" ? Buffer.from(armored, "latin1") : armored;
  if (!startsWithAt(buf, 0, buf.length, BEGIN)) return { ok: false, reason: "no BEGIN PGP MESSAGE line" };
  let s = BEGIN.length;
  let e = buf.length;
  while (e - s >= 2 && buf[e - 2] === CR && buf[e - 1] === LF) e -= 2;
  if (e - s < END.length || !buf.subarray(e - END.length, e).equals(END)) {
    return { ok: false, reason: "no END PGP MESSAGE line" };
  }
  e -= END.length;
  if (startsWithAt(buf, s, e, VERSION)) {
    if (direction === "outgoing") return { ok: false, reason: "armor Version header in outgoing mail" };
    const eol = buf.indexOf(CRLF, s);
    if (eol !== -1 && eol + 2 <= e) s = eol + 2;
  }
  while (e - s >= 2 && buf[s] === CR && buf[s + 1] === LF) s += 2;
  // The last line (ignoring one final CRLF) is the CRC24 if it starts with "=".
  const t = e - s >= 2 && buf[e - 2] === CR && buf[e - 1] === LF ? e - 2 : e;
  const lastBreak = t - 2 >= s ? buf.lastIndexOf(CRLF, t - 2) : -1;
  const lastLine = lastBreak >= s ? lastBreak + 2 : s;
  if (lastLine < t && buf[lastLine] === 0x3d) e = lastLine;
  const data = decodeBase64Lines(buf, s, e);
  if (data === null) return { ok: false, reason: "armor body is not base64" };
  return { ok: true, data };
}

export type ArmorCheck = { ok: true; tags: number[] } | { ok: false; reason: string };

/** Armor and packet walk together (filtermail `check_armored_payload`). */
export function checkArmoredPayload(armored: Buffer | string, direction: Direction): ArmorCheck {
  const d = dearmor(armored, direction);
  if (!d.ok) return d;
  const w = walkPackets(d.data);
  return w.ok ? w : { ok: false, reason: w.reason };
}
