/**
 * Origin check for incoming mail (filtermail `verify_origin`): at least one DKIM signature
 * must verify and its d= must equal the From domain (strict alignment, like DMARC adkim=s,
 * RFC 7489 §3.1.1). Signatures are checked by mailauth (RFC 6376 §6); which ones, and how
 * the work stays bounded, is decided in select.ts.
 */

import { domainToASCII } from "node:url";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { DnsError } from "../dns/resolver.ts";
import type { TxtResolver } from "./key-cache.ts";
import { parseHeaderBlock, toCrlf } from "./message.ts";
import { type Candidate, selectSignatures, withoutFields } from "./select.ts";

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
  return { ok: true, message: withoutFields(crlf, parsed.fields, drop), signed, selected };
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
  const domain = canonicalDomain(fromDomain);
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
