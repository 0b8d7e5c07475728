/**
 * Origin check for incoming mail (filtermail `verify_origin`): at least one DKIM signature
 * must verify and its d= must equal the From domain (strict alignment, like DMARC adkim=s,
 * RFC 7489 §3.1.1). Signatures are checked by mailauth (RFC 6376 §6); which ones, and how
 * the work stays bounded, is decided in select.ts.
 */

import { domainToASCII } from "node:url";
import { DnsError } from "../dns/resolver.ts";
import type { TxtResolver } from "./key-cache.ts";
import { type HeaderField, parseHeaderBlock, toCrlf } from "./message.ts";
import { type Candidate, parseTagList, selectSignatures, withoutFields } from "./select.ts";

export type VerifyResult = { ok: true } | { ok: false; code: 554 | 500; text: string };

export const NO_SIGNATURE = "5.7.1 No DKIM signature found";
export const NO_VALID_SIGNATURE = "5.7.1 No valid DKIM signature found";
export const UNPARSABLE = "Failed to parse message headers";

/** A resolver that may also forget a cached key (DkimKeyCache). */
export type KeyResolver = TxtResolver & { invalidate?(name: string): void };

/** The parts of a mailauth result read here (its .d.ts does not match the runtime shape). */
interface SignatureResult {
  signature?: string;
  signingDomain?: string;
  selector?: string;
  algo?: string;
  canonBodyLengthLimited?: boolean;
  status: { result: string; underSized?: number };
}

/** Key lookups per message at most (select.ts hands on at most 3 signatures). */
const MAX_KEY_LOOKUPS = 10;

function canonicalDomain(domain: string): string {
  const lower = domain.toLowerCase().replace(/\.$/, "");
  return domainToASCII(lower) || lower;
}

function dnsCode(err: unknown): string {
  if (err instanceof DnsError) {
    if (err.kind === "nxdomain") return "ENOTFOUND";
    if (err.kind === "nodata") return "ENODATA";
    return err.code;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "ETEMPFAIL";
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * mailauth resolver: only keys of the From domain are looked up (others could never be
 * aligned), at most MAX_KEY_LOOKUPS per message, and a DKIM1 record is put first
 * because mailauth reads only the first TXT record.
 */
function keyResolver(resolver: TxtResolver, fromDomain: string) {
  const suffix = `._domainkey.${fromDomain}`;
  let lookups = 0;
  return async (name: string, rrtype: string): Promise<string[][]> => {
    const lower = name.toLowerCase();
    if (rrtype !== "TXT" || !lower.endsWith(suffix)) throw withCode("not looked up", "ENOTFOUND");
    if (++lookups > MAX_KEY_LOOKUPS) throw withCode("too many DKIM key lookups", "ETOOMANY");
    let records: string[][];
    try {
      records = await resolver.resolveTxt(lower);
    } catch (err) {
      throw withCode(`DKIM key lookup failed for ${lower}`, dnsCode(err));
    }
    const isKey = (r: string[]) => /^\s*v\s*=\s*DKIM1\b/i.test(r.join(""));
    return [...records.filter(isKey), ...records.filter((r) => !isKey(r))];
  };
}

function accepted(r: SignatureResult, fromDomain: string, selected: Candidate[]): boolean {
  if (r.status.result !== "pass") return false;
  // Only a selected signature counts, not another one it signs (select.ts).
  if (!selected.some((c) => c.b === r.signature)) return false;
  if (canonicalDomain(r.signingDomain ?? "") !== fromDomain) return false;
  // RFC 8301 §3.1: rsa-sha1 signatures are not valid.
  if (!/-sha256$/i.test(r.algo ?? "")) return false;
  // RFC 6376 §8.2: with l=, content may have been appended after the signed part.
  return !r.canonBodyLengthLimited;
}

/**
 * True when the CR/LF run at the end of a CRLF message holds a bare CR ("x\r\r\n"). RFC 6376
 * §3.4.3-4 ignore only empty lines there, but mailauth drops every trailing CR and LF, so
 * such bytes could be added to a signed body unnoticed; no conforming signer verifies anyway.
 */
function bareCrAtEnd(m: Buffer): boolean {
  let i = m.length;
  while (i >= 2 && m[i - 2] === 0x0d && m[i - 1] === 0x0a) i -= 2;
  return i >= 1 && m[i - 1] === 0x0d;
}

/**
 * The message as mailauth gets it (other signature fields removed, see select.ts) and the
 * signatures selected in it; `{ ok: false }` when the header section does not parse.
 */
export function prepareVerification(
  message: Buffer,
  fromDomain: string,
): { ok: true; message: Buffer; signed: boolean; selected: Candidate[] } | { ok: false } {
  const crlf = toCrlf(message);
  const parsed = parseHeaderBlock(crlf);
  if (!parsed.ok) return { ok: false };
  const signed = parsed.fields.some((f) => f.key === "dkim-signature");
  const { selected, drop } = selectSignatures(parsed.fields, canonicalDomain(fromDomain), canonicalDomain);
  const usable = selected.filter((c) => !looseWhitespace(parsed.fields, c));
  if (foldedLines(parsed.fields) > MAX_FOLDED_LINES) usable.length = 0;
  return { ok: true, message: withoutFields(crlf, parsed.fields, drop), signed, selected: usable };
}

/** mailauth joins continuation lines in quadratic time (its parseHeaders); real headers fold far less. */
const MAX_FOLDED_LINES = 1000;

function foldedLines(fields: HeaderField[]): number {
  let n = 0;
  for (const f of fields) for (let i = f.raw.indexOf("\r\n"); i !== -1; i = f.raw.indexOf("\r\n", i + 2)) n++;
  return n;
}

/**
 * True when a field that signature `c` covers (or the signature itself) holds VT, FF, NBSP
 * (0xA0) or a bare CR. mailauth's relaxed canonicalization compresses every such byte like
 * WSP, which RFC 6376 §3.4.2 does not, so they could be changed without breaking the
 * signature; a signer that follows the RFC never verifies with them anyway.
 */
function looseWhitespace(fields: HeaderField[], c: Candidate): boolean {
  const loose = /[\x0b\x0c\xa0]|\r(?!\n)/;
  const signature = fields[c.index];
  if (!signature || loose.test(signature.raw)) return true;
  const h = parseTagList(signature.raw.slice(signature.raw.indexOf(":") + 1))?.get("h") ?? "";
  const names = new Set(h.split(":").map((n) => n.toLowerCase()));
  return fields.some((f) => names.has(f.key) && loose.test(f.raw));
}

export async function verifyAligned(
  message: Buffer,
  fromDomain: string,
  resolver: KeyResolver,
): Promise<VerifyResult> {
  const prepared = prepareVerification(message, fromDomain);
  if (!prepared.ok) return { ok: false, code: 500, text: UNPARSABLE };
  if (!prepared.signed) return { ok: false, code: 554, text: NO_SIGNATURE };
  if (prepared.selected.length === 0) return { ok: false, code: 554, text: NO_VALID_SIGNATURE };
  if (bareCrAtEnd(prepared.message)) return { ok: false, code: 554, text: NO_VALID_SIGNATURE };
  const domain = canonicalDomain(fromDomain);
  // mailauth (with joi and the public suffix list) costs ~20 MB: loaded with the first signed
  // message from another domain, not at start-up.
  const { dkimVerify } = await import("mailauth/lib/dkim/verify.js");
  let results: SignatureResult[];
  try {
    const verified = await dkimVerify(prepared.message, { resolver: keyResolver(resolver, domain) });
    results = verified.results as unknown as SignatureResult[];
  } catch {
    return { ok: false, code: 554, text: NO_VALID_SIGNATURE };
  }
  if (results.some((r) => accepted(r, domain, prepared.selected))) return { ok: true };
  for (const r of results) {
    if (r.selector && r.signingDomain && canonicalDomain(r.signingDomain) === domain) {
      resolver.invalidate?.(`${r.selector}._domainkey.${domain}`.toLowerCase());
    }
  }
  return { ok: false, code: 554, text: NO_VALID_SIGNATURE };
}
