// The OpenPGP shape check of the encryption gate: ASCII armor (RFC 4880 §6,
// RFC 9580 §6) and a walk over packet headers (RFC 9580 §4.2). No
// cryptography: the relay only checks that the payload is a sequence of
// session-key packets followed by exactly one encrypted-data packet.

export const TAG_PKESK = 1;
export const TAG_SKESK = 3;
export const TAG_SEIPD = 18;

export type Direction = "outgoing" | "incoming";

export type WalkResult = { ok: true; tags: number[] } | { ok: false; reason: string; tags: number[] };

/**
 * Walks the packet headers of `data`. Accepts exactly (PKESK | SKESK)* SEIPD,
 * with the SEIPD ending at the last byte. OpenPGP-format headers (RFC 9580
 * §4.2.1) may use partial body lengths; Legacy-format headers (§4.2.2, still
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
      // §4.2.1.4: partial body lengths, each followed by another length.
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

const BEGIN = "-----BEGIN PGP MESSAGE-----\r\n";
const END = "-----END PGP MESSAGE-----";
const VERSION = "Version: ";
const BASE64 = /^[A-Za-z0-9+/]*$/;
const B64_INDEX = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Canonical base64 (RFC 4648 §4): padded, no stray characters, zero pad bits. */
export function decodeBase64Strict(s: string): Buffer | null {
  if (s.length % 4 !== 0) return null;
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const core = s.slice(0, s.length - pad);
  if (!BASE64.test(core)) return null;
  if (pad > 0) {
    const last = B64_INDEX.indexOf(core[core.length - 1] as string);
    if ((pad === 2 && (last & 0x0f) !== 0) || (pad === 1 && (last & 0x03) !== 0)) return null;
  }
  return Buffer.from(s, "base64");
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
export function dearmor(text: string, direction: Direction): DearmorResult {
  if (!text.startsWith(BEGIN)) return { ok: false, reason: "no BEGIN PGP MESSAGE line" };
  let s = text.slice(BEGIN.length);
  let e = s.length;
  while (e >= 2 && s.charCodeAt(e - 2) === 0x0d && s.charCodeAt(e - 1) === 0x0a) e -= 2;
  s = s.slice(0, e);
  if (!s.endsWith(END)) return { ok: false, reason: "no END PGP MESSAGE line" };
  s = s.slice(0, s.length - END.length);
  if (s.startsWith(VERSION)) {
    if (direction === "outgoing") return { ok: false, reason: "armor Version header in outgoing mail" };
    const eol = s.indexOf("\r\n");
    if (eol !== -1) s = s.slice(eol + 2);
  }
  let b = 0;
  while (s.startsWith("\r\n", b)) b += 2;
  s = s.slice(b);
  let lines = s.split("\r\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines = lines.slice(0, -1);
  if (lines.length > 0 && (lines[lines.length - 1] as string).startsWith("=")) lines = lines.slice(0, -1);
  const data = decodeBase64Strict(lines.join("").replace(/[\r\n]/g, ""));
  if (data === null) return { ok: false, reason: "armor body is not base64" };
  return { ok: true, data };
}

export type ArmorCheck = { ok: true; tags: number[] } | { ok: false; reason: string };

/** Armor and packet walk together (filtermail `check_armored_payload`). */
export function checkArmoredPayload(text: string, direction: Direction): ArmorCheck {
  const d = dearmor(text, direction);
  if (!d.ok) return d;
  const w = walkPackets(d.data);
  return w.ok ? w : { ok: false, reason: w.reason };
}
