import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { type IniDocument, IniSyntaxError, parseIni } from "../../src/config/ini.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const fixtures = join(here, "..", "fixtures", "ini");
const oracle = join(here, "configparser-oracle.py");

function parsed(text: string): IniDocument {
  const doc = parseIni(text);
  if (doc instanceof IniSyntaxError) assert.fail(`unexpected ${doc.kind}: ${doc.message}`);
  return doc;
}

function failed(text: string): IniSyntaxError {
  const doc = parseIni(text);
  assert.ok(doc instanceof IniSyntaxError, "expected a syntax error");
  return doc;
}

/** section -> key -> value */
function values(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, options] of parsed(text).sections) {
    out[name] = Object.fromEntries([...options].map(([k, e]) => [k, e.value]));
  }
  return out;
}

test("both separators; the first = or : splits; key and value are stripped", () => {
  assert.deepEqual(values("[s]\na = 1\nb: 2\nc=3\nd :4\nurl = http://x:8/?q=1\ne: f = g\nh  =  i j  \n"), {
    s: { a: "1", b: "2", c: "3", d: "4", url: "http://x:8/?q=1", e: "f = g", h: "i j" },
  });
});

test("keys are lower-cased, values keep their case; empty values are allowed", () => {
  assert.deepEqual(values("[Params]\nMAIL_Domain = Chat.Example\nempty =\nalso:\n"), {
    Params: { mail_domain: "Chat.Example", empty: "", also: "" },
  });
});

test("comments: # and ; at the start, also indented; inline comments stay in the value", () => {
  assert.deepEqual(
    values("# c\n; c\n[s]\n   # indented\n\t; tab\na = 1 # not a comment\nb = 2 ; neither\n#c = 3\n"),
    { s: { a: "1 # not a comment", b: "2 ; neither" } },
  );
});

test("indented lines continue a value; empty lines inside are kept, trailing ones dropped", () => {
  const text = "[s]\npostal = first\n    second\n\n\tthird\n\n\nnext = x\n";
  assert.deepEqual(values(text), { s: { postal: "first\nsecond\n\nthird", next: "x" } });
});

test("a value started on the following lines keeps the leading newline (configparser does)", () => {
  assert.deepEqual(values("[s]\na =\n    one\n    two\n"), { s: { a: "\none\ntwo" } });
});

test("comment lines inside a value are dropped and do not end it", () => {
  assert.deepEqual(values("[s]\na = 1\n  # x\n  2\n ; y\n  3\n"), { s: { a: "1\n2\n3" } });
});

test("an empty line does not end a value: a deeper line after it still continues", () => {
  assert.deepEqual(values("[s]\na = 1\n\n  b = 2\n"), { s: { a: "1\n\nb = 2" } });
});

test("continuation depends on the indentation of the line that started the option", () => {
  assert.deepEqual(values("[s]\n    a = 1\n  b = 2\n      c\n"), { s: { a: "1", b: "2\nc" } });
  // a header indented deeper than the option line is part of its value
  assert.deepEqual(values("[s]\na = 1\n  [t]\n"), { s: { a: "1\n[t]" } });
});

test("section headers: name up to the last ], text after it ignored, case kept", () => {
  assert.deepEqual(values("[a] ; comment\nx = 1\n[b]c]\ny = 2\n[ spaced ]  \nz = 3\n"), {
    a: { x: "1" },
    "b]c": { y: "2" },
    " spaced ": { z: "3" },
  });
});

test("[DEFAULT] may appear twice and merges; other sections may not", () => {
  assert.deepEqual(values("[DEFAULT]\na = 1\n[s]\nb = 2\n[DEFAULT]\nc = 3\n"), {
    DEFAULT: { a: "1", c: "3" },
    s: { b: "2" },
  });
  const e = failed("[DEFAULT]\na = 1\n[DEFAULT]\nA = 2\n");
  assert.equal(e.kind, "duplicate-option");
  assert.equal(e.line, 4);
});

test("line numbers of keys and sections; CRLF and CR line endings count as lines", () => {
  for (const eol of ["\n", "\r\n", "\r"]) {
    const doc = parsed(["# c", "[s]", "", "a = 1", "  more", "b = 2", "[t]", "c = 3"].join(eol) + eol);
    assert.deepEqual(doc.sections.get("s")!.get("a"), { value: "1\nmore", line: 4 });
    assert.deepEqual(doc.sections.get("s")!.get("b"), { value: "2", line: 6 });
    assert.deepEqual(doc.sections.get("t")!.get("c"), { value: "3", line: 8 });
    assert.deepEqual(
      [...doc.sectionLines],
      [
        ["s", 2],
        ["t", 7],
      ],
    );
  }
});

test("empty input and only comments give no sections", () => {
  assert.equal(parsed("").sections.size, 0);
  assert.equal(parsed("# nothing\n\n;\n").sections.size, 0);
});

test("a key before any section header", () => {
  const e = failed("\n# c\nkey = value\n[s]\n");
  assert.equal(e.kind, "missing-section-header");
  assert.equal(e.line, 3);
  assert.equal(e.reason, '"key = value" comes before any [section] header');
});

test("a duplicate section", () => {
  const e = failed("[s]\na = 1\n[t]\n[s]\n");
  assert.equal(e.kind, "duplicate-section");
  assert.equal(e.line, 4);
  assert.equal(e.reason, "duplicate section [s] (first at line 1)");
  assert.equal(e.key, undefined);
});

test("a duplicate key, also when spelled in another case", () => {
  const e = failed("[s]\nkey = 1\nother = 2\nKEY = 3\n");
  assert.equal(e.kind, "duplicate-option");
  assert.equal(e.line, 4);
  assert.equal(e.key, "key");
  assert.equal(e.reason, "duplicate option in [s] (first at line 2)");
  // the same key in two sections is fine
  assert.deepEqual(values("[s]\nk = 1\n[t]\nk = 2\n"), { s: { k: "1" }, t: { k: "2" } });
});

test("a line that is neither header, option nor continuation", () => {
  const e = failed("[s]\na = 1\nthis is not an option\nb = 2\nnor this\n");
  assert.equal(e.kind, "invalid-line");
  assert.equal(e.line, 3);
  assert.equal(e.reason, 'expected "key = value", "key: value" or "[section]", got "this is not an option"');
  assert.equal(failed("[s]\n[]\n").line, 2);
});

test("an option without a name", () => {
  const e = failed("[s]\n  = value\n");
  assert.equal(e.kind, "invalid-line");
  assert.equal(e.line, 2);
  assert.equal(e.reason, 'missing option name before "=" in "= value"');
});

test("like configparser, a later duplicate is reported before an earlier bad line", () => {
  const e = failed("[s]\nbad line\na = 1\na = 2\n");
  assert.equal(e.kind, "duplicate-option");
  assert.equal(e.line, 4);
});

test("total: any text gives a document or an IniSyntaxError, never an exception", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
      const doc = parseIni(text);
      assert.ok(doc instanceof IniSyntaxError || doc.sections instanceof Map);
    }),
    { numRuns: 2000 },
  );
});

// --- differential test against Python's configparser ---

type OracleResult =
  | { ok: true; defaults: [string, string][]; sections: [string, [string, string][]][] }
  | { ok: false; kind: string; line: number };

function askPython(items: ({ path: string } | { text: string })[]): OracleResult[] {
  const r = spawnSync("python3", [oracle], {
    input: JSON.stringify(items),
    encoding: "utf8",
    maxBuffer: 256 * 2 ** 20,
  });
  assert.equal(r.status, 0, `python3 failed: ${r.error ?? r.stderr}`);
  return JSON.parse(r.stdout) as OracleResult[];
}

function ours(text: string): OracleResult {
  const doc = parseIni(text);
  if (doc instanceof IniSyntaxError) return { ok: false, kind: doc.kind, line: doc.line };
  const entries = (m: Map<string, { value: string }>) =>
    [...m].map(([k, e]) => [k, e.value] as [string, string]);
  return {
    ok: true,
    defaults: entries(doc.sections.get("DEFAULT") ?? new Map()),
    sections: [...doc.sections].filter(([name]) => name !== "DEFAULT").map(([n, m]) => [n, entries(m)]),
  };
}

function iniFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) iniFiles(path, out);
    else if (name.endsWith(".ini")) out.push(path);
  }
  return out;
}

test("every fixture parses exactly as Python's configparser reads it", async () => {
  const { readFileSync } = await import("node:fs");
  const files = iniFiles(fixtures);
  assert.ok(files.length >= 20, "fixtures found");
  const expected = askPython(files.map((path) => ({ path })));
  files.forEach((path, i) => {
    assert.deepEqual(ours(readFileSync(path, "utf8")), expected[i], path);
  });
  // the broken fixtures include every syntax error kind
  const kinds = new Set(expected.filter((r) => !r.ok).map((r) => (r as { kind: string }).kind));
  assert.deepEqual([...kinds].sort(), [
    "duplicate-option",
    "duplicate-section",
    "invalid-line",
    "missing-section-header",
  ]);
});

const space = fc.constantFrom("", "", " ", "  ", "\t", "    ", "\u00a0", "\f", "\u2003");
const keyText = fc.constantFrom("a", "A", "key", "Key ", "mail_domain", "x y", "", "é", "ΑΣ", "k\u00a0");
const delimiter = fc.constantFrom("=", ":", " = ", ": ", " :", "==", "=:", "\t=\t");
const valueText = fc.constantFrom(
  "",
  "v",
  "1 # not a comment",
  "x=y",
  "a:b",
  " spaced ",
  "[s]",
  "; x",
  "#x",
  "ü",
);
const header = fc.constantFrom("[s]", "[t]", "[DEFAULT]", "[s] tail", "[a]b]", "[]", "[ s ]", "[S]");
const iniLine = fc.oneof(
  fc.tuple(space, header).map(([w, h]) => w + h),
  { arbitrary: fc.tuple(space, keyText, delimiter, valueText).map((p) => p.join("")), weight: 4 },
  fc.tuple(space, fc.constantFrom("#", ";"), valueText).map((p) => p.join("")),
  space,
  {
    arbitrary: fc.tuple(fc.constantFrom(" ", "  ", "\t", "      "), valueText).map((p) => p.join("")),
    weight: 2,
  },
  fc.tuple(space, fc.constantFrom("garbage", "x y z")).map((p) => p.join("")),
);
const eol = fc.constantFrom("\n", "\n", "\n", "\r\n", "\r");
const iniText = fc
  .tuple(
    fc.constantFrom("[s]\n", "[s]\n", "[DEFAULT]\n", ""),
    fc.array(fc.tuple(iniLine, eol), { maxLength: 14 }),
    fc.constantFrom("", "last = line"),
  )
  .map(([start, lines, end]) => start + lines.map(([l, e]) => l + e).join("") + end);

test("random ini texts parse exactly as Python's configparser reads them", () => {
  const seed = Date.now() % 2 ** 31;
  const texts = fc.sample(iniText, { numRuns: 600, seed });
  const expected = askPython(texts.map((text) => ({ text })));
  let errors = 0;
  texts.forEach((text, i) => {
    assert.deepEqual(ours(text), expected[i], `seed ${seed}, text ${JSON.stringify(text)}`);
    if (!expected[i]!.ok) errors++;
  });
  // both outcomes are exercised
  assert.ok(errors > 30 && errors < 570, `errors: ${errors}`);
});
