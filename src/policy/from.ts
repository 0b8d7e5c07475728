// The From header address (RFC 5322 §3.4, §3.6.2). The header must occur
// once and hold exactly one mailbox: a group, a list or a second From is
// refused, because the relay and the receiving client must agree on who the
// author is. The address is parsed from the raw header, so an encoded word
// (RFC 2047) can only ever be part of the display name.

import libmime from "libmime";
import { type HeaderSection, headerValues } from "./headers.ts";
import { isIpv4, isIpv6 } from "./ip.ts";

export interface Mailbox {
  /** Lower-cased addr-spec, quoting only where RFC 5321 §4.1.2 requires it. */
  address: string;
  localPart: string;
  /** Lower-cased domain as written: "example.org" or "[192.0.2.1]" / "[ipv6:2001:db8::1]". */
  domain: string;
  /** For a domain literal (RFC 5321 §4.1.3), the address inside the brackets without "IPv6:". */
  literal: string | null;
  /** Display name with encoded words decoded, "" if none. */
  displayName: string;
}

export type FromResult = { ok: true; mailbox: Mailbox } | { ok: false; error: string; raw: string };

type Token =
  | { kind: "atom"; text: string }
  | { kind: "quoted"; text: string }
  | { kind: "literal"; text: string }
  | { kind: "special"; text: string };

const SPECIALS = '()<>[]:;@\\,."';

/** RFC 5322 §3.2 lexical tokens; comments and whitespace dropped. Null on unbalanced input. */
function tokenize(s: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
    } else if (c === "(") {
      let depth = 0;
      for (; i < s.length; i++) {
        if (s[i] === "\\") i++;
        else if (s[i] === "(") depth++;
        else if (s[i] === ")" && --depth === 0) break;
      }
      if (i >= s.length) return null;
      i++;
    } else if (c === '"') {
      let text = "";
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\") i++;
        if (i < s.length) text += s[i];
        i++;
      }
      if (i >= s.length) return null;
      i++;
      out.push({ kind: "quoted", text });
    } else if (c === "[") {
      const close = s.indexOf("]", i);
      if (close === -1) return null;
      const text = s.slice(i + 1, close).trim();
      if (/[[\\]/.test(text)) return null;
      out.push({ kind: "literal", text });
      i = close + 1;
    } else if (SPECIALS.includes(c)) {
      out.push({ kind: "special", text: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !SPECIALS.includes(s[j] as string) && !/[ \t\r\n]/.test(s[j] as string)) j++;
      out.push({ kind: "atom", text: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

const isSpecial = (t: Token | undefined, ch: string): boolean => t?.kind === "special" && t.text === ch;
const DOT_ATOM =
  /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+)*$/;
const LABEL = /^[A-Za-z0-9_\u0080-\uffff]([A-Za-z0-9_\-\u0080-\uffff]*[A-Za-z0-9_\u0080-\uffff])?$/;
// addr-spec = local-part "@" domain (RFC 5322 §3.4.1, with obs-local-part).
function addrSpec(tokens: Token[]): { localPart: string; domain: string; literal: string | null } | null {
  const at = tokens.findIndex((t) => isSpecial(t, "@"));
  if (at <= 0) return null;
  const local = tokens.slice(0, at);
  const dom = tokens.slice(at + 1);
  const words: string[] = [];
  for (let k = 0; k < local.length; k++) {
    const t = local[k] as Token;
    if (k % 2 === 1) {
      if (!isSpecial(t, ".")) return null;
      continue;
    }
    if (t.kind !== "atom" && t.kind !== "quoted") return null;
    words.push(t.text);
  }
  if (local.length % 2 === 0) return null;
  const joined = words.join(".");
  if (joined === "" || /[\x00-\x1f\x7f]/.test(joined)) return null;
  const localPart = DOT_ATOM.test(joined) ? joined : `"${joined.replace(/(["\\])/g, "\\$1")}"`;

  if (dom.length === 1 && dom[0]?.kind === "literal") {
    const text = dom[0].text;
    const v6 = /^ipv6:/i.test(text);
    const ip = v6 ? text.slice(5) : text;
    if (v6 ? !isIpv6(ip) : !isIpv4(ip)) return null;
    return { localPart, domain: `[${text}]`.toLowerCase(), literal: ip.toLowerCase() };
  }
  const labels: string[] = [];
  for (let k = 0; k < dom.length; k++) {
    const t = dom[k] as Token;
    if (k % 2 === 1) {
      if (!isSpecial(t, ".")) return null;
      continue;
    }
    if (t.kind !== "atom" || !LABEL.test(t.text)) return null;
    labels.push(t.text);
  }
  if (dom.length % 2 === 0) return null;
  return { localPart, domain: labels.join(".").toLowerCase(), literal: null };
}

function decodeName(tokens: Token[]): string {
  let raw = "";
  for (const t of tokens) raw += isSpecial(t, ".") || raw === "" ? t.text : ` ${t.text}`;
  try {
    return libmime.decodeWords(raw).trim();
  } catch {
    return raw;
  }
}

/** Parses a header value holding exactly one mailbox (name-addr or addr-spec). */
export function parseMailbox(value: string): FromResult {
  const fail = (error: string): FromResult => ({ ok: false, error, raw: value.trim() });
  const tokens = tokenize(value);
  if (tokens === null) return fail("unbalanced quotes, comment or brackets");
  if (tokens.length === 0) return fail("empty");
  if (tokens.some((t) => isSpecial(t, ",") || isSpecial(t, ":") || isSpecial(t, ";"))) {
    return fail("more than one mailbox, or a group");
  }
  const open = tokens.findIndex((t) => isSpecial(t, "<"));
  let spec: Token[];
  let nameTokens: Token[] = [];
  if (open === -1) {
    spec = tokens;
  } else {
    const close = tokens.findIndex((t) => isSpecial(t, ">"));
    if (close !== tokens.length - 1 || close < open) return fail("text after the angle address");
    nameTokens = tokens.slice(0, open);
    if (nameTokens.some((t) => t.kind !== "atom" && t.kind !== "quoted" && !isSpecial(t, "."))) {
      return fail("invalid display name");
    }
    spec = tokens.slice(open + 1, close);
  }
  if (spec.some((t) => isSpecial(t, "<") || isSpecial(t, ">"))) return fail("invalid angle address");
  const parsed = addrSpec(spec);
  if (parsed === null) return fail("invalid address");
  const address = `${parsed.localPart}@${parsed.domain}`.toLowerCase();
  return {
    ok: true,
    mailbox: {
      address,
      localPart: parsed.localPart.toLowerCase(),
      domain: parsed.domain,
      literal: parsed.literal,
      displayName: decodeName(nameTokens),
    },
  };
}

/** The author mailbox of a message: exactly one From field with exactly one mailbox. */
export function extractFrom(headers: HeaderSection): FromResult {
  const values = headerValues(headers, "from");
  if (values.length === 0) return { ok: false, error: "missing", raw: "" };
  if (values.length > 1)
    return { ok: false, error: "more than one From field", raw: (values[0] as string).trim() };
  return parseMailbox(values[0] as string);
}
