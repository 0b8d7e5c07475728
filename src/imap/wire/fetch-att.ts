/**
 * FETCH items (RFC 3501 §6.4.5, §9 fetch-att) including the section spec and
 * partial "<o.n>", and the ALL / FAST / FULL macros.
 */
import type { Reader } from "./reader.ts";
import type { FetchAtt, Section } from "./types.ts";

const SIMPLE = new Set([
  "UID",
  "FLAGS",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "BODY",
  "RFC822",
  "RFC822.HEADER",
  "RFC822.TEXT",
]);

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

function isNameChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e // .
  );
}

/** Letters, digits and dots: the item name before "[" or a delimiter. */
function itemName(r: Reader): string {
  const start = r.pos;
  while (!r.done && isNameChar(r.peek())) r.pos++;
  if (r.pos === start) r.fail("expected fetch item");
  return r.buf.toString("latin1", start, r.pos).toUpperCase();
}

/** section = "[" [section-spec] "]" (RFC 3501 §9). */
export function parseSection(r: Reader): Section {
  r.expect("[");
  const section: Section = { part: [], text: null, fields: [] };
  if (r.take("]")) return section;
  const c = r.peek();
  if (c >= 0x31 && c <= 0x39) {
    section.part.push(r.nzNumber());
    while (r.take(".")) {
      const d = r.peek();
      if (d >= 0x30 && d <= 0x39) {
        section.part.push(r.nzNumber());
        continue;
      }
      section.text = sectionText(r, true);
      break;
    }
  } else {
    section.text = sectionText(r, false);
  }
  if (section.text === "HEADER.FIELDS" || section.text === "HEADER.FIELDS.NOT") {
    r.sp();
    section.fields = r.list(() => r.astring(), false);
    // Echoed in the response: a control or 8-bit byte could not be (and no field name, RFC 5322 §3.6.8, has one).
    if (section.fields.some((f) => /[^\x20-\x7e]/.test(f))) r.fail("bad header field name");
  }
  r.expect("]");
  return section;
}

function sectionText(r: Reader, afterPart: boolean): Section["text"] {
  const word = itemName(r);
  switch (word) {
    case "HEADER":
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT":
    case "TEXT":
      return word;
    case "MIME":
      if (afterPart) return word;
      return r.fail("MIME needs a part number");
    default:
      return r.fail(`unknown section text ${word}`);
  }
}

function fetchAtt(r: Reader): FetchAtt {
  const name = itemName(r);
  if ((name === "BODY" || name === "BODY.PEEK") && r.peek() === 0x5b) {
    const section = parseSection(r);
    let partial: { offset: number; length: number } | null = null;
    if (r.take("<")) {
      const offset = r.number();
      r.expect(".");
      const length = r.nzNumber();
      r.expect(">");
      partial = { offset, length };
    }
    return { kind: "BODY[]", peek: name === "BODY.PEEK", section, partial };
  }
  if (SIMPLE.has(name)) return { kind: name as Exclude<FetchAtt, { kind: "BODY[]" }>["kind"] };
  return r.fail(`unknown fetch item ${name}`);
}

/** The fetch-att part of FETCH: a macro, one item, or a parenthesised list. */
export function parseFetchAtts(r: Reader): { atts: FetchAtt[]; macro: boolean } {
  if (r.peek() === 0x28) return { atts: r.list(() => fetchAtt(r), false), macro: false };
  const save = r.pos;
  const name = itemName(r);
  const macro = MACROS[name];
  if (macro && r.peek() !== 0x5b) {
    return { atts: macro.map((k) => ({ kind: k }) as FetchAtt), macro: true };
  }
  r.pos = save;
  return { atts: [fetchAtt(r)], macro: false };
}

/** The item name as it is echoed in the response: "BODY[HEADER.FIELDS (DATE FROM)]<0>". */
export function sectionLabel(section: Section): string {
  let s = section.part.join(".");
  if (section.text) s += (s ? "." : "") + section.text;
  if (section.fields.length > 0) s += ` (${section.fields.map(fieldLabel).join(" ")})`;
  return `[${s}]`;
}

function fieldLabel(name: string): string {
  // header-fld-name is an astring; echo atoms bare, anything else quoted.
  if (/^[!#-'+-Z^-z|~]+$/.test(name)) return name;
  return `"${name.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}
