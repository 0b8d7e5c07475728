// Shared helpers for the policy tests: PGP/MIME message builders and a small
// armor writer for hand-made packet sequences. The mail-data vectors come from
// test/support/mail.ts.

export const ALICE = "alice@c.example";
export const BOB = "bob@d.example";

export function crlf(s: string): string {
  return s.replace(/\r?\n/g, "\r\n");
}

// RFC 4880 §6.1 CRC-24.
export function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

export interface ArmorOptions {
  crc?: boolean;
  headers?: string[];
}

/** ASCII armor with CRLF line endings, 64 columns, optional CRC and headers. */
export function armor(data: Uint8Array, opts: ArmorOptions = {}): string {
  const b64 = Buffer.from(data).toString("base64");
  const lines = ["-----BEGIN PGP MESSAGE-----", ...(opts.headers ?? []), ""];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  if (opts.crc !== false) {
    const c = crc24(data);
    lines.push(`=${Buffer.from([c >> 16, (c >> 8) & 0xff, c & 0xff]).toString("base64")}`);
  }
  lines.push("-----END PGP MESSAGE-----", "");
  return lines.join("\r\n");
}

export interface PgpMimeOptions {
  from?: string;
  to?: string;
  boundary?: string;
  topType?: string;
  part1Type?: string;
  part1Body?: string;
  part2Type?: string;
  extraTopHeaders?: string[];
  extraParts?: string[];
}

/** A PGP/MIME message (RFC 3156 §4) around `armored`, CRLF throughout. */
export function pgpMime(armored: string, o: PgpMimeOptions = {}): Buffer {
  const b = o.boundary ?? "YFrteb74qSXmggbOxZL9dRnhymywAi";
  const lines = [
    `From: ${o.from ?? ALICE}`,
    `To: ${o.to ?? BOB}`,
    "Subject: [...]",
    ...(o.extraTopHeaders ?? []),
    "MIME-Version: 1.0",
    `Content-Type: ${o.topType ?? "multipart/encrypted"}; protocol="application/pgp-encrypted";`,
    `\tboundary="${b}"`,
    "",
    "",
    `--${b}`,
    "Content-Description: PGP/MIME version identification",
    `Content-Type: ${o.part1Type ?? "application/pgp-encrypted"}`,
    "",
    o.part1Body ?? "Version: 1",
    "",
    "",
    `--${b}`,
    "Content-Description: OpenPGP encrypted message",
    'Content-Disposition: inline; filename="encrypted.asc";',
    `Content-Type: ${o.part2Type ?? 'application/octet-stream; name="encrypted.asc"'}`,
    "",
    crlf(armored).replace(/\r\n$/, ""),
    "",
  ];
  for (const extra of o.extraParts ?? []) lines.push(`--${b}`, extra);
  lines.push(`--${b}--`, "");
  return Buffer.from(lines.join("\r\n"), "latin1");
}

/** A new-format (RFC 9580 §4.2.1) packet with a definite length. */
export function packet(tag: number, body: Uint8Array | number[]): Buffer {
  const b = Buffer.from(body as Uint8Array);
  let len: number[];
  if (b.length < 192) len = [b.length];
  else if (b.length < 8384) len = [((b.length - 192) >> 8) + 192, (b.length - 192) & 0xff];
  else
    len = [255, (b.length >>> 24) & 0xff, (b.length >> 16) & 0xff, (b.length >> 8) & 0xff, b.length & 0xff];
  return Buffer.concat([Buffer.from([0xc0 | tag, ...len]), b]);
}

/** A legacy-format (RFC 9580 §4.2.2) packet; lengthType 0, 1, 2 (or 3 = indeterminate). */
export function legacyPacket(tag: number, body: Uint8Array | number[], lengthType: 0 | 1 | 2 | 3): Buffer {
  const b = Buffer.from(body as Uint8Array);
  const n = b.length;
  const len =
    lengthType === 0
      ? [n]
      : lengthType === 1
        ? [n >> 8, n & 0xff]
        : lengthType === 2
          ? [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
          : [];
  return Buffer.concat([Buffer.from([0x80 | (tag << 2) | lengthType, ...len]), b]);
}

/** A new-format packet whose body is written as partial lengths of 2^k bytes, then a final length. */
export function partialPacket(tag: number, body: Uint8Array, chunkExp: number): Buffer {
  const chunk = 2 ** chunkExp;
  const out: Buffer[] = [Buffer.from([0xc0 | tag])];
  let i = 0;
  while (body.length - i > chunk) {
    out.push(Buffer.from([224 + chunkExp]), Buffer.from(body.subarray(i, i + chunk)));
    i += chunk;
  }
  const rest = packet(0, body.subarray(i)).subarray(1); // reuse the length encoding
  out.push(rest);
  return Buffer.concat(out);
}

export interface Packet {
  tag: number;
  /** Offset of the header and of the body within the data. */
  start: number;
  bodyStart: number;
  end: number;
  legacy: boolean;
}

/** Splits well-formed packet data (definite lengths only) for re-encoding in tests. */
export function splitPackets(data: Uint8Array): Packet[] {
  const out: Packet[] = [];
  let i = 0;
  while (i < data.length) {
    const ctb = data[i] as number;
    const start = i;
    if ((ctb & 0x40) === 0) throw new Error("legacy input not supported here");
    const tag = ctb & 0x3f;
    const b0 = data[i + 1] as number;
    let len: number;
    if (b0 < 192) {
      len = b0;
      i += 2;
    } else if (b0 < 224) {
      len = ((b0 - 192) << 8) + (data[i + 2] as number) + 192;
      i += 3;
    } else if (b0 === 255) {
      len = Buffer.from(data.subarray(i + 2, i + 6)).readUInt32BE(0);
      i += 6;
    } else {
      throw new Error("partial lengths not supported here");
    }
    out.push({ tag, start, bodyStart: i, end: i + len, legacy: false });
    i += len;
  }
  return out;
}
