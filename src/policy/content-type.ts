// Content-Type parser (RFC 2045 §5.1, RFC 2231 §3-4 parameter continuations).
// Total and strict about ambiguity: a parameter given twice (including
// `boundary` next to `boundary*0`) is flagged, because two parsers could pick
// different values and so see different MIME structures.

export interface ContentType {
  /** Lower-cased "type/subtype"; "" when the value is not a media type. */
  mime: string;
  /** Parameters by lower-cased name (RFC 2231 continuations joined). */
  params: Record<string, string>;
  /** True when a parameter name occurs more than once. */
  duplicateParams: boolean;
}

export const DEFAULT_CONTENT_TYPE: ContentType = {
  mime: "text/plain",
  params: { charset: "us-ascii" },
  duplicateParams: false,
};

// RFC 2045 §5.1 tspecials, plus space and controls.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

/** Replaces comments (RFC 822 §3.4.3, nested, outside quoted strings) with a space. */
function stripComments(s: string): string {
  if (!s.includes("(")) return s;
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    if (!quoted && c === "(") {
      depth++;
      continue;
    }
    if (!quoted && depth > 0 && c === ")") {
      depth--;
      if (depth === 0) out += " ";
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

interface RawParam {
  name: string;
  value: string;
}

function splitParams(s: string): RawParam[] {
  const out: RawParam[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ";" || isSpace(s.charCodeAt(i)))) i++;
    if (i >= s.length) break;
    let eq = i;
    while (eq < s.length && s[eq] !== "=" && s[eq] !== ";") eq++;
    if (s[eq] !== "=") {
      i = eq + 1; // attribute without value: ignored
      continue;
    }
    const name = s.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    let value = "";
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
      i++; // closing quote (or end of input)
    } else {
      const stop = s.indexOf(";", i);
      value = s.slice(i, stop === -1 ? s.length : stop).trim();
      i = stop === -1 ? s.length : stop;
    }
    if (name !== "") out.push({ name, value });
  }
  return out;
}

// RFC 2231 §4: charset'language'percent-encoded.
function decodeExtended(value: string, first: boolean): string {
  let v = value;
  if (first) {
    const parts = value.split("'");
    if (parts.length >= 3) v = parts.slice(2).join("'");
  }
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Parses a Content-Type value. Never throws. */
export function parseContentType(value: string): ContentType {
  const s = stripComments(value);
  const semi = s.indexOf(";");
  const media = (semi === -1 ? s : s.slice(0, semi)).trim();
  const slash = media.indexOf("/");
  let mime = "";
  if (slash > 0) {
    const type = media.slice(0, slash).trim();
    const subtype = media.slice(slash + 1).trim();
    if (TOKEN.test(type) && TOKEN.test(subtype)) mime = `${type}/${subtype}`.toLowerCase();
  }
  const raw = semi === -1 ? [] : splitParams(s.slice(semi + 1));
  const seen = new Set<string>();
  const plain = new Map<string, string>();
  const sections = new Map<string, Map<number, { value: string; extended: boolean }>>();
  let duplicateParams = false;
  for (const p of raw) {
    if (seen.has(p.name)) duplicateParams = true;
    seen.add(p.name);
    const m = /^([^*]+)\*(?:(\d+)(\*)?)?$/.exec(p.name);
    if (m === null) {
      plain.set(p.name, p.value);
      continue;
    }
    const base = m[1] as string;
    const index = m[2] === undefined ? 0 : Number(m[2]);
    const extended = m[2] === undefined || m[3] === "*";
    let map = sections.get(base);
    if (map === undefined) {
      map = new Map();
      sections.set(base, map);
    }
    if (map.has(index)) duplicateParams = true;
    map.set(index, { value: p.value, extended });
  }
  const params: Record<string, string> = Object.create(null);
  for (const [k, v] of plain) params[k] = v;
  for (const [base, map] of sections) {
    if (plain.has(base)) duplicateParams = true;
    const indexes = [...map.keys()].sort((a, b) => a - b);
    params[base] = indexes
      .map((i) => {
        const sec = map.get(i) as { value: string; extended: boolean };
        return sec.extended ? decodeExtended(sec.value, i === indexes[0]) : sec.value;
      })
      .join("");
  }
  return { mime, params, duplicateParams };
}
