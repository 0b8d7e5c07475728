/**
 * The MIME and OpenPGP walkers: the gate's top-level shape
 * (src/policy/mime-shape.ts), its armor and packet walk (openpgp.ts), and the
 * IMAP server's MIME tree with BODYSTRUCTURE, ENVELOPE and BODY[section]
 * (src/imap/mime/). Properties: nothing throws; bounded time; offsets nest
 * (0 <= headerStart <= headerEnd = bodyStart <= bodyEnd <= length, children
 * in order inside their parent's body); `lines` counts the body's LFs; an
 * accepted packet sequence is (PKESK | SKESK)* SEIPD (RFC 9580 §4.2);
 * BODYSTRUCTURE and ENVELOPE are one well-formed IMAP parenthesized list
 * (RFC 3501 §9) and not the fallback a caught exception gives.
 */
import assert from "node:assert/strict";
import { bodyStructure } from "../../../src/imap/mime/bodystructure.ts";
import { envelope, envelopeFields } from "../../../src/imap/mime/envelope.ts";
import { MAX_DEPTH, type MimePart, parseMessage } from "../../../src/imap/mime/parse.ts";
import { sectionBytes } from "../../../src/imap/mime/section.ts";
import { checkEncrypted } from "../../../src/policy/encryption.ts";
import { decodedBody, MAX_PARTS, parseMimeShape } from "../../../src/policy/mime-shape.ts";
import {
  checkArmoredPayload,
  TAG_PKESK,
  TAG_SEIPD,
  TAG_SKESK,
  walkPackets,
} from "../../../src/policy/openpgp.ts";
import { type FuzzTarget, loadCorpus } from "../lib/engine.ts";
import { MAIL_DICTIONARY } from "./gate.ts";

function packetTags(tags: number[], where: string): void {
  assert.equal(tags.at(-1), TAG_SEIPD, `${where}: last packet ${tags.at(-1)}`);
  for (const t of tags.slice(0, -1)) assert.ok(t === TAG_PKESK || t === TAG_SKESK, `${where}: packet ${t}`);
}

function within(view: Buffer, whole: Buffer, where: string): void {
  assert.equal(view.buffer, whole.buffer, `${where}: not a view into the message`);
  assert.ok(view.byteOffset >= whole.byteOffset, where);
  assert.ok(view.byteOffset + view.length <= whole.byteOffset + whole.length, where);
}

function countLf(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Checks one part and its descendants; returns the number of parts. */
function checkTree(raw: Buffer, p: MimePart, from: number, to: number, depth: number): number {
  const where = `part at ${p.headerStart} (depth ${depth})`;
  assert.ok(depth <= MAX_DEPTH + 2, `${where}: nested too deep`);
  assert.ok(from <= p.headerStart && p.headerStart <= p.headerEnd, `${where}: header range`);
  assert.equal(p.bodyStart, p.headerEnd, `${where}: bodyStart`);
  assert.ok(
    p.bodyStart <= p.bodyEnd && p.bodyEnd <= to,
    `${where}: body range ${p.bodyStart}-${p.bodyEnd} outside ${from}-${to}`,
  );
  assert.equal(p.lines, countLf(raw.subarray(p.bodyStart, p.bodyEnd)), `${where}: lines`);
  for (const f of p.fields)
    assert.ok(p.headerStart <= f.start && f.start <= f.end && f.end <= p.headerEnd, `${where}: field`);
  let n = 1;
  let at = p.bodyStart;
  for (const c of p.children) {
    n += checkTree(raw, c, at, p.bodyEnd, depth + 1);
    at = c.bodyEnd;
  }
  if (p.message) {
    assert.equal(p.children.length, 0, `${where}: both children and a message`);
    n += checkTree(raw, p.message, p.bodyStart, p.bodyEnd, depth + 1);
  }
  return n;
}

/** Reads one IMAP parenthesized list (RFC 3501 §9: nil, number, quoted, literal, list) spanning all of `b`. */
export function imapListProblem(b: Buffer): string | null {
  let i = 0;
  let depth = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === 0x28) depth++;
    else if (c === 0x29) {
      if (--depth < 0) return `")" without "(" at ${i}`;
      if (depth === 0 && i !== b.length - 1) return `text after the list at ${i + 1}`;
    } else if (c === 0x22) {
      for (i++; i < b.length && b[i] !== 0x22; i++) {
        if (b[i] === 0x5c) i++;
        if (b[i] === 0x0d || b[i] === 0x0a || b[i] === 0) return `CR, LF or NUL in a quoted string at ${i}`;
      }
      if (i >= b.length) return "unterminated quoted string";
    } else if (c === 0x7b) {
      const m = /^\{(\d+)\}\r\n/.exec(b.toString("latin1", i, i + 24));
      if (!m) return `bad literal at ${i}`;
      i += m[0].length + Number(m[1]) - 1;
      if (i >= b.length) return "literal past the end";
    } else if (c === 0x20) {
      // separator
    } else if (/[A-Za-z0-9\\.$-]/.test(String.fromCharCode(c))) {
      // atom or number
    } else return `unexpected byte ${c} at ${i}`;
    if (depth === 0 && i === 0) return "does not start with (";
    i++;
  }
  return depth === 0 ? null : "unbalanced parentheses";
}

const FALLBACKS = new Set([
  '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)',
  '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)',
]);

function checkImap(raw: Buffer): void {
  const root = parseMessage(raw);
  checkTree(raw, root, 0, raw.length, 0);
  for (const extended of [true, false]) {
    const bs = bodyStructure(root, extended, raw);
    const problem = imapListProblem(bs);
    assert.equal(problem, null, `BODYSTRUCTURE: ${problem}: ${bs.toString("latin1").slice(0, 300)}`);
    if (FALLBACKS.has(bs.toString("latin1")))
      assert.ok(root.bodyEnd === root.bodyStart, "BODYSTRUCTURE fell back after an exception");
  }
  const env = envelope(root, raw);
  const problem = imapListProblem(env);
  assert.equal(problem, null, `ENVELOPE: ${problem}: ${env.toString("latin1").slice(0, 300)}`);
  // envelope() hides exceptions behind a fallback; the function inside must not throw.
  envelopeFields(raw, root);
  for (const part of [[], [1], [2], [1, 1], [1, 2], [2, 1], [3]]) {
    for (const text of [undefined, "HEADER", "TEXT", "MIME"] as const) {
      if (text === "MIME" && part.length === 0) continue;
      const out = sectionBytes(raw, root, { part, text });
      assert.ok(
        Buffer.isBuffer(out) && out.length <= raw.length + 2,
        `BODY[${part.join(".")}${text ?? ""}] size`,
      );
    }
    sectionBytes(raw, root, { part, text: "HEADER.FIELDS", fields: ["From", "Content-Type"] });
  }
}

function checkGateShape(raw: Buffer): void {
  const r = parseMimeShape(raw);
  if (!r.ok) {
    assert.equal(typeof r.error, "string");
    return;
  }
  const s = r.shape;
  within(s.body, raw, "top-level body");
  if (s.parts) {
    assert.ok(s.parts.length <= MAX_PARTS, "too many parts");
    s.parts.forEach((p, i) => {
      within(p.body, raw, `part ${i + 1} body`);
      decodedBody(p);
    });
  }
  decodedBody(s);
  for (const direction of ["outgoing", "incoming"] as const) {
    const enc = checkEncrypted(raw, direction);
    if (enc.ok) packetTags(enc.tags, "checkEncrypted");
    const armor = checkArmoredPayload(raw, direction);
    if (armor.ok) packetTags(armor.tags, "checkArmoredPayload");
  }
  const walk = walkPackets(raw);
  if (walk.ok) packetTags(walk.tags, "walkPackets");
}

export function mimeTarget(): FuzzTarget {
  return {
    name: "mime",
    mutator: { dictionary: MAIL_DICTIONARY, maxLength: 256 * 1024 },
    corpus: loadCorpus("mime"),
    slowMs: 1000,
    check(input) {
      checkGateShape(input);
      checkImap(input);
    },
  };
}
