// Dovecot's imaptest FETCH scripts as the oracle: every BODY[...], BINARY[...],
// BODY, BODYSTRUCTURE and ENVELOPE item they expect is recomputed here from
// the same mbox messages and compared (case-insensitively where imaptest is).

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { bodyStructure } from "../../../src/imap/mime/bodystructure.ts";
import { envelope } from "../../../src/imap/mime/envelope.ts";
import { decodedBody } from "../../../src/imap/mime/header.ts";
import { parseMessage } from "../../../src/imap/mime/parse.ts";
import { findPart, partial, type SectionSpec, sectionBytes } from "../../../src/imap/mime/section.ts";
import type { ImapArg } from "../../imaptest/args.ts";
import { argText, fetchExpectations } from "../../imaptest/fetch-items.ts";
import { parseMbox } from "../../imaptest/mbox.ts";
import { loadScript } from "../../imaptest/script.ts";

const IMAPTEST_DIR = join(import.meta.dirname, "../../fixtures/imaptest/tests");

const SCRIPTS = [
  "fetch-body",
  "fetch-body-mime",
  "fetch-body-message-rfc822",
  "fetch-body-message-rfc822-mime",
  "fetch-body-message-rfc822-x2",
  "fetch-bodystructure",
  "fetch-envelope",
  "fetch-binary-mime",
  "fetch-binary-mime-base64",
  "fetch-binary-mime-qp",
];

/** "2.header.fields (from subject)" → { part: [2], text: "HEADER.FIELDS", fields: [...] } */
function parseSection(s: string): SectionSpec {
  const m = /^([\d.]*?)\.?(header\.fields\.not|header\.fields|header|text|mime)?(?: \((.*)\))?$/i.exec(
    s.trim(),
  );
  assert.ok(m, `section ${s}`);
  const part = m[1] === "" ? [] : m[1].split(".").map(Number);
  const text = m[2]?.toUpperCase() as SectionSpec["text"];
  const fields = m[3]?.split(" ").filter((x) => x.length > 0);
  return { part, ...(text ? { text } : {}), ...(fields ? { fields } : {}) };
}

/** <offset.length> requested for each section in the command, by lower-case section text. */
function partials(command: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const m of command.matchAll(/(?:body|binary)(?:\.peek)?\[([^\]]*)\]<(\d+)\.(\d+)>/gi)) {
    out.set(m[1].toLowerCase(), [Number(m[2]), Number(m[3])]);
  }
  return out;
}

type Value =
  | { kind: "list"; text: string }
  | { kind: "string"; bytes: Buffer }
  | { kind: "var"; name: string }
  | { kind: "atom"; text: string };

/** An expected value: a list compares as its text, `$x` is a variable the server chooses. */
function expectedValue(a: ImapArg): Value {
  if (a.type === "string" || a.type === "literal")
    return { kind: "string", bytes: Buffer.from(a.value, "latin1") };
  if (a.type === "list") return { kind: "list", text: argText(a) };
  const text = argText(a);
  return text.startsWith("$") ? { kind: "var", name: text } : { kind: "atom", text };
}

let checked = 0;

for (const script of SCRIPTS) {
  test(`imaptest ${script}`, () => {
    const file = loadScript(join(IMAPTEST_DIR, script));
    const messages = parseMbox(file.mbox).map((m) => Buffer.from(m.data, "latin1"));
    const expectations = fetchExpectations(file.script);
    assert.ok(expectations.length > 0);
    let here = 0;
    for (const e of expectations) {
      const raw = messages[e.seq - 1];
      assert.ok(raw, `message ${e.seq}`);
      const root = parseMessage(raw);
      const wanted = partials(e.command);
      for (const [key, arg] of e.items) {
        const value = expectedValue(arg);
        const what = `${script}: ${e.command} → ${key}`;
        const k = key.toLowerCase();
        const section = /^(body|binary)(\.size)?\[(.*)\](?:<(\d+)>)?$/.exec(k);
        let actual: Buffer | null = null;
        if (section !== null) {
          const spec = parseSection(section[3]);
          let bytes: Buffer;
          if (section[1] === "binary" && spec.part.length > 0) {
            const part = findPart(root, spec.part);
            bytes = part === null ? Buffer.alloc(0) : decodedBody(raw, part);
          } else {
            bytes = sectionBytes(raw, root, spec);
          }
          if (section[2] !== undefined) {
            assert.equal(value.kind, "atom", what);
            if (value.kind === "atom") assert.equal(String(bytes.length), value.text, what);
            here++;
            continue;
          }
          const p = wanted.get(section[3]);
          if (section[4] !== undefined) {
            assert.ok(p, `${what}: partial`);
            assert.equal(p[0], Number(section[4]));
            bytes = partial(bytes, p[0], p[1]);
          }
          actual = bytes;
        } else if (k === "body" || k === "bodystructure") {
          actual = bodyStructure(root, k === "bodystructure");
        } else if (k === "envelope") {
          actual = envelope(root, raw);
        } else {
          continue; // flags, rfc822.* and the like are the server's
        }
        if (value.kind === "var") continue;
        const expected =
          value.kind === "string"
            ? value.bytes
            : Buffer.from(value.kind === "list" ? value.text : value.text, "latin1");
        let same: boolean;
        if (value.kind === "list") {
          same = actual.toString("latin1").toLowerCase() === expected.toString("latin1").toLowerCase();
        } else if (value.kind === "atom" && value.text.toUpperCase() === "NIL") {
          same = false;
        } else {
          same = actual.equals(expected);
        }
        if (e.must) {
          assert.ok(
            same,
            `${what}\nexpected: ${JSON.stringify(expected.toString("latin1"))}\nactual:   ${JSON.stringify(actual.toString("latin1"))}`,
          );
        } else {
          assert.ok(!same, `${what}: must not be sent`);
        }
        here++;
      }
    }
    assert.ok(here > 0, `${script}: nothing compared`);
    checked += here;
  });
}

test("imaptest scripts were compared item by item", () => {
  console.log("checked", checked);
  assert.ok(checked >= 80, `only ${checked} items compared`);
});
