// Content-* header fields of one MIME part (RFC 2045, RFC 2183, RFC 3282,
// RFC 2557, RFC 1864), read the way Dovecot reads them for BODYSTRUCTURE:
// the first occurrence of each field counts, values keep their case, and
// without MIME-Version or Content-Type (the part is not MIME) all of them
// are ignored.

import { decodeEncodedWords, decodeRfc2231 } from "./charset.ts";
import { fullValue, type HeaderField } from "./fields.ts";
import { parseParams, Rfc822Parser, Str } from "./rfc822.ts";

/** Parameters as written: names keep their case, RFC 2231 pieces merged but not decoded. */
export type MimeParams = Array<[name: string, value: string]>;

export interface PartContent {
  /** MIME-Version or Content-Type was seen (or the part is inside a multipart). */
  isMime: boolean;
  /** `type/subtype` of the first Content-Type as parsed, for the part's kind. */
  typeString: string | null;
  contentType: { type: string; subtype: string; params: MimeParams } | null;
  /** boundary parameter of the first Content-Type (RFC 2046 §5.1.1), max 80 chars. */
  boundary: string | null;
  encoding: string | null;
  id: string | null;
  description: string | null;
  md5: string | null;
  location: string | null;
  disposition: { type: string; params: MimeParams } | null;
  language: string[] | null;
}

function parseContentType(value: string, c: PartContent): void {
  const p = new Rfc822Parser(value);
  p.skipLwsp();
  const s = new Str();
  const ret = p.contentType(s);
  const slash = s.v.indexOf("/");
  const type = slash < 0 ? s.v : s.v.slice(0, slash);
  const subtype = slash < 0 ? "" : s.v.slice(slash + 1);
  // a broken Content-Type is kept as far as it could be read, without params
  const params = ret < 0 ? [] : parseParams(p);
  c.typeString = s.v;
  c.contentType = { type, subtype, params };
  if (ret >= 0 && s.v.toLowerCase().startsWith("multipart/")) {
    const b = params.find(([k]) => k.toLowerCase() === "boundary");
    if (b !== undefined) c.boundary = b[1].slice(0, 80);
  }
}

function parseEncoding(value: string): string | null {
  const p = new Rfc822Parser(value);
  p.skipLwsp();
  const s = new Str();
  if (p.mimeToken(s) >= 0 && p.skipLwsp() === 0 && s.v.length > 0) return s.v;
  return null;
}

function parseDisposition(value: string): PartContent["disposition"] {
  const p = new Rfc822Parser(value);
  p.skipLwsp();
  const s = new Str();
  if (p.mimeToken(s) < 0) return null;
  return { type: s.v, params: parseParams(p) };
}

/** RFC 3282: Content-Language = 1#Language-tag */
function parseLanguage(value: string): string[] | null {
  const p = new Rfc822Parser(value);
  const langs: string[] = [];
  p.skipLwsp();
  for (;;) {
    const s = new Str();
    if (p.atom(s) < 0) break;
    langs.push(s.v);
    if (p.pos >= p.end || p.c() !== 0x2c) break;
    p.pos++;
    p.skipLwsp();
  }
  return langs.length > 0 ? langs : null;
}

export function readContent(raw: Buffer, fields: HeaderField[], isMime: boolean): PartContent {
  const c = emptyContent();
  c.isMime = isMime;
  for (const f of fields) {
    if (f.name.length < 8) continue;
    const name = f.name.toLowerCase();
    if (name === "mime-version") {
      c.isMime = true;
      continue;
    }
    if (!name.startsWith("content-")) continue;
    switch (name) {
      case "content-type":
        c.isMime = true;
        if (c.contentType === null) parseContentType(fullValue(raw, f), c);
        break;
      case "content-transfer-encoding":
        if (c.encoding === null) c.encoding = parseEncoding(fullValue(raw, f));
        break;
      case "content-id":
        c.id ??= fullValue(raw, f);
        break;
      case "content-description":
        c.description ??= fullValue(raw, f);
        break;
      case "content-md5":
        c.md5 ??= fullValue(raw, f);
        break;
      case "content-location":
        c.location ??= fullValue(raw, f);
        break;
      case "content-language":
        c.language ??= parseLanguage(fullValue(raw, f));
        break;
      case "content-disposition":
        // Dovecot lets a later field replace one that had no parameters
        if (c.disposition === null || c.disposition.params.length === 0) {
          c.disposition = parseDisposition(fullValue(raw, f)) ?? c.disposition;
        }
        break;
    }
  }
  return c.isMime ? c : emptyContent();
}

function emptyContent(): PartContent {
  return {
    isMime: false,
    typeString: null,
    contentType: null,
    boundary: null,
    encoding: null,
    id: null,
    description: null,
    md5: null,
    location: null,
    disposition: null,
    language: null,
  };
}

/** Parameters with lower-case names and RFC 2231 / RFC 2047 decoded values; first one wins. */
export function decodeParams(params: MimeParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of params) {
    const extended = k.endsWith("*");
    const name = (extended ? k.slice(0, -1) : k).toLowerCase();
    if (name in out) continue;
    out[name] = extended ? decodeRfc2231(v) : decodeEncodedWords(v);
  }
  return out;
}
