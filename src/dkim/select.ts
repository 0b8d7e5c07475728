/**
 * Which DKIM signatures of an incoming message are verified at all. mailauth hashes the
 * body once per distinct (canonicalization, hash, l=) of the signatures it sees, so a
 * message with hundreds of DKIM-Signature fields would cost hundreds of body hashes. Only
 * signatures that could ever make the message acceptable are handed on:
 *
 * - d= equals the From domain (strict alignment, RFC 7489 §3.1.1);
 * - a well-formed tag list (RFC 6376 §3.2: tag names unique) without comments, quotes or
 *   backslashes, so that mailauth's lenient parser reads the same d=, h= and l=;
 * - a= ends in -sha256 (RFC 8301 §3.1);
 * - no l= (RFC 6376 §8.2: content may be appended after the signed length);
 * - "from" in h= (RFC 6376 §5.4: From must be signed), at most MAX_SIGNED_NAMES names.
 *
 * Of these, the first MAX_SIGNATURES in header order (top to bottom; a signer prepends
 * its field, so the newest come first) are considered, and a later one is never looked
 * at, even if it would verify: with three failing aligned signatures on top, a message
 * is refused. mailauth gets a copy of the header section without the other
 * DKIM-Signature, ARC-Message-Signature and ARC-Seal fields (ARC signatures are hashed
 * by mailauth too).
 *
 * Removing fields must not change what a selected signature hashes. RFC 6376 §5.4.2:
 * for each name in h= the verifier takes the bottom-most instance not taken yet. If a
 * selected signature lists dkim-signature (or arc-*) in h=, the instances it takes under
 * the full header are kept: they are the bottom-most ones of their name, so they are
 * still the bottom-most in any subset that keeps them, and the selection is unchanged.
 * Kept fields count against the budget, so mailauth never sees more than
 * MAX_SIGNATURES signature fields and hashes the body at most that many times.
 */
import { selectSignedFields } from "./canon.ts";
import type { HeaderField } from "./message.ts";

/** Signature fields (selected plus those they sign) handed to mailauth at most. */
export const MAX_SIGNATURES = 3;
/** Names in h= at most (real signers list a few dozen, oversigning included). */
export const MAX_SIGNED_NAMES = 256;
/**
 * Header sections larger than this get no signature verified: mailauth's work per
 * signature grows with the number of fields. The gate refuses larger ones before
 * (policy/mime-shape.ts MAX_HEADER_BYTES).
 */
export const MAX_HEADER_BYTES = 256 * 1024;

const SIGNATURE_KEYS = new Set(["dkim-signature", "arc-message-signature", "arc-seal"]);

/** RFC 6376 §3.2 tag-list; null when malformed or when mailauth could read it differently. */
export function parseTagList(value: string): Map<string, string> | null {
  // mailauth strips (comments), honours "quotes" and \escapes; RFC 6376 has none of these.
  if (/["'()\\]/.test(value)) return null;
  const tags = new Map<string, string>();
  for (const spec of value.split(";")) {
    const eq = spec.indexOf("=");
    if (eq < 0) {
      if (spec.trim() === "") continue; // a trailing ";" or empty spec
      return null;
    }
    const name = spec.slice(0, eq).trim();
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) return null;
    if (tags.has(name)) return null; // §3.2: a duplicate tag invalidates the whole list
    // Folding whitespace inside values is not significant for the tags read here.
    tags.set(name, spec.slice(eq + 1).replace(/[ \t\r\n]+/g, ""));
  }
  return tags;
}

/** Lower-cased h= names, or null when h= is missing or unusable. */
function signedNames(tags: Map<string, string>): string[] | null {
  const h = tags.get("h");
  if (h === undefined || h === "") return null;
  const names = h.split(":").map((n) => n.toLowerCase());
  if (names.length > MAX_SIGNED_NAMES || names.some((n) => n === "")) return null;
  return names;
}

export interface Candidate {
  /** Index into the header fields. */
  index: number;
  /** b= with folding whitespace removed, to recognise mailauth's result for this field. */
  b: string;
}

export interface Selection {
  /** The selected signatures, in header order. */
  selected: Candidate[];
  /** Indexes of the fields to drop from the message given to mailauth. */
  drop: Set<number>;
}

function colons(s: string): number {
  let n = 0;
  for (let i = s.indexOf(":"); i !== -1; i = s.indexOf(":", i + 1)) n++;
  return n;
}

/** A DKIM-Signature field that may be verified for `domain` (canonical, see verify.ts), or null. */
function eligible(
  f: HeaderField,
  domain: string,
  canonical: (d: string) => string,
): { b: string; names: string[] } | null {
  const tags = parseTagList(f.raw.slice(f.raw.indexOf(":") + 1));
  if (!tags) return null;
  const d = tags.get("d");
  if (d === undefined || canonical(d) !== domain) return null;
  if (tags.get("v") !== "1") return null;
  if (!/-sha256$/i.test(tags.get("a") ?? "")) return null;
  if (tags.has("l")) return null;
  const names = signedNames(tags);
  if (!names?.includes("from")) return null;
  const b = tags.get("b");
  if (!b) return null;
  return { b, names };
}

/**
 * The first MAX_SIGNATURES eligible signatures are considered; one is selected when the
 * signature fields it needs (itself and those it signs) still fit in the budget.
 */
export function selectSignatures(
  fields: HeaderField[],
  domain: string,
  canonical: (d: string) => string,
): Selection {
  const selected: Candidate[] = [];
  let size = 0;
  for (const f of fields) size += f.raw.length + 2;
  if (size > MAX_HEADER_BYTES) return { selected, drop: new Set() };
  const keep = new Set<number>();
  const position = new Map(fields.map((f, i) => [f, i]));
  let considered = 0;
  for (let i = 0; i < fields.length && considered < MAX_SIGNATURES; i++) {
    const f = fields[i]!;
    if (f.key !== "dkim-signature") continue;
    const c = eligible(f, domain, canonical);
    if (!c) continue;
    considered++;
    // The signature fields this one hashes (§5.4.2 selection under the full header).
    const needs = new Set([i]);
    for (const g of selectSignedFields(fields, c.names)) {
      if (SIGNATURE_KEYS.has(g.key)) needs.add(position.get(g)!);
    }
    if (new Set([...keep, ...needs]).size > MAX_SIGNATURES) continue;
    // mailauth walks the h= list of every signature field it gets, so a field this one
    // signs must be as bounded as a selected one (a colon per name, and a few more).
    if ([...needs].some((n) => n !== i && colons(fields[n]!.raw) > 2 * MAX_SIGNED_NAMES)) continue;
    for (const n of needs) keep.add(n);
    selected.push({ index: i, b: c.b });
  }
  const drop = new Set<number>();
  fields.forEach((f, i) => {
    if (SIGNATURE_KEYS.has(f.key) && !keep.has(i)) drop.add(i);
  });
  return { selected, drop };
}

/**
 * `message` (CRLF line ends, header `fields` as parsed from it) without the fields at
 * `drop`. Fields are separated by exactly CRLF in the header section, so a field's bytes
 * are found by adding up the lengths of those before it.
 */
export function withoutFields(message: Buffer, fields: HeaderField[], drop: Set<number>): Buffer {
  if (drop.size === 0) return message;
  const parts: Buffer[] = [];
  let offset = 0;
  let from = 0;
  fields.forEach((f, i) => {
    const end = Math.min(message.length, offset + f.raw.length + 2);
    if (drop.has(i)) {
      parts.push(message.subarray(from, offset));
      from = end;
    }
    offset = end;
  });
  parts.push(message.subarray(from));
  return Buffer.concat(parts);
}
