// Broken and unusual MIME: the parser gives a best-effort structure the way
// Dovecot does, and every renderer stays well-formed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { bodyStructure } from "../../../src/imap/mime/bodystructure.ts";
import { envelope } from "../../../src/imap/mime/envelope.ts";
import { MAX_DEPTH, type MimePart, parseMessage } from "../../../src/imap/mime/parse.ts";
import { sectionBytes } from "../../../src/imap/mime/section.ts";
import { bs, clientCrossCheck, crlf, env, sec } from "./helpers.ts";

const TEXT_PLAIN = '"text" "plain" ("charset" "us-ascii") NIL NIL "7bit"';

type Tree = Tree[];
/** The multipart tree of a message: each part as the list of its children. */
function tree(raw: Buffer): Tree {
  const walk = (p: MimePart): Tree => p.children.map(walk);
  return walk(parseMessage(raw));
}

test("missing closing boundary: the last part runs to the end", async () => {
  const raw = crlf(
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "hello",
  );
  assert.equal(bs(raw), `((${TEXT_PLAIN} 7 1 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)`);
  assert.equal(sec(raw, { part: [1] }), "hello\r\n");
  await clientCrossCheck(raw);
});

test("an outer boundary closes an unterminated inner multipart", async () => {
  const raw = crlf(
    "Content-Type: multipart/mixed; boundary=outer",
    "",
    "--outer",
    "Content-Type: multipart/alternative; boundary=inner",
    "",
    "--inner",
    "Content-Type: text/plain",
    "",
    "one",
    "--outer",
    "Content-Type: text/html",
    "",
    "<b>two</b>",
    "--outer--",
  );
  assert.deepEqual(tree(raw), [[[]], []]);
  assert.equal(sec(raw, { part: [1, 1] }), "one");
  assert.equal(sec(raw, { part: [2] }), "<b>two</b>");
  assert.equal(
    bs(raw, false),
    `(((${TEXT_PLAIN} 3 0) "alternative")("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 10 0) "mixed")`,
  );
  await clientCrossCheck(raw);
});

test("preamble and epilogue belong to the multipart body only", () => {
  const raw = crlf(
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "preamble",
    "--b",
    "",
    "part",
    "--b--",
    "epilogue",
  );
  assert.equal(sec(raw, { part: [], text: "TEXT" }), "preamble\r\n--b\r\n\r\npart\r\n--b--\r\nepilogue\r\n");
  assert.equal(sec(raw, { part: [1] }), "part");
  assert.equal(sec(raw, { part: [1], text: "MIME" }), "\r\n");
  assert.equal(sec(raw, { part: [2] }), "");
});

test("the same boundary nested: the inner multipart takes it first", () => {
  const raw = crlf(
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "--b",
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "--b",
    "",
    "x",
    "--b--",
    "--b--",
  );
  assert.deepEqual(tree(raw), [[[]]]);
  assert.equal(sec(raw, { part: [1, 1] }), "x");
});

test("boundaries match as prefixes, the longest active one wins (as Dovecot)", () => {
  const raw = crlf(
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "--b",
    "Content-Type: multipart/mixed; boundary=bb",
    "",
    "--bb",
    "",
    "x",
    "--bbb trailing words",
    "",
    "y",
    "--b--",
  );
  assert.deepEqual(tree(raw), [[[], []]]);
  assert.equal(sec(raw, { part: [1, 2] }), "y");
});

test("a boundary line inside a part's header ends the header", () => {
  const raw = crlf(
    "Content-Type: multipart/mixed; boundary=b",
    "",
    "--b",
    "Content-Type: text/plain",
    "--b",
    "X: y",
    "",
    "body",
    "--b--",
  );
  assert.deepEqual(tree(raw), [[], []]);
  assert.equal(sec(raw, { part: [1], text: "MIME" }), "Content-Type: text/plain");
  assert.equal(sec(raw, { part: [1] }), "");
  assert.equal(sec(raw, { part: [2], text: "MIME" }), "X: y\r\n\r\n");
  assert.equal(sec(raw, { part: [2] }), "body");
  assert.equal(bs(raw, false), `((${TEXT_PLAIN} 0 0)(${TEXT_PLAIN} 4 0) "mixed")`);
});

test("multipart without a boundary parameter has one empty text part", () => {
  const raw = crlf("MIME-Version: 1.0", "Content-Type: multipart/mixed", "", "--x", "", "text");
  assert.equal(bs(raw), `((${TEXT_PLAIN} 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)`);
  assert.equal(sectionBytes(raw, parseMessage(raw), { part: [1] }).length, 0);
  assert.equal(sec(raw, { part: [], text: "TEXT" }), "--x\r\n\r\ntext\r\n");
});

test("no header at all", () => {
  const raw = crlf("", "body text");
  assert.equal(bs(raw), `(${TEXT_PLAIN} 11 1 NIL NIL NIL NIL)`);
  assert.equal(sec(raw, { part: [], text: "HEADER" }), "\r\n");
  assert.equal(sec(raw, { part: [], text: "TEXT" }), "body text\r\n");
  assert.equal(env(raw), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
});

test("only a header, no empty line and no body", () => {
  const raw = crlf("Subject: hi", "From: a@b.example");
  const root = parseMessage(raw);
  assert.equal(root.headerEnd, raw.length);
  assert.equal(sec(raw, { part: [], text: "TEXT" }), "");
  assert.equal(sec(raw, { part: [], text: "HEADER" }), raw.toString("latin1"));
  assert.equal(bs(raw, false), `(${TEXT_PLAIN} 0 0)`);
  assert.match(env(raw), /^\(NIL "hi" \(\(NIL NIL "a" "b.example"\)\)/);
  // text without any empty line is header, as Dovecot reads it
  assert.equal(parseMessage(Buffer.from("just some text")).headerEnd, 14);
});

test("bare LF and mixed line endings", () => {
  const raw = Buffer.from(
    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\nthere\n--b\r\n\r\nx\r\n--b--\n",
  );
  assert.equal(sec(raw, { part: [1] }), "hi\nthere");
  assert.equal(sec(raw, { part: [1], text: "MIME" }), "Content-Type: text/plain\n\n");
  assert.equal(sec(raw, { part: [2] }), "x");
  assert.equal(bs(raw, false), `((${TEXT_PLAIN} 8 1)(${TEXT_PLAIN} 1 0) "mixed")`);
  const lf = Buffer.from("Subject: a\nFrom: b@c.example\n\nbody\n");
  assert.equal(sec(lf, { part: [], text: "HEADER.FIELDS", fields: ["from"] }), "From: b@c.example\n\r\n");
  assert.equal(sec(lf, { part: [], text: "TEXT" }), "body\n");
});

test("8-bit header bytes are sent as literals, unchanged", () => {
  const raw = Buffer.from("Subject: Grüße\r\nFrom: Jürgen <j@example.org>\r\n\r\nx", "utf8");
  const expected = Buffer.concat([
    Buffer.from("(NIL {7}\r\n"),
    Buffer.from("Grüße"),
    Buffer.from(" (({7}\r\n"),
    Buffer.from("Jürgen"),
    Buffer.from(' NIL "j" "example.org")) (('),
  ]);
  const out = envelope(parseMessage(raw), raw);
  assert.ok(out.subarray(0, expected.length).equals(expected), out.toString());
});

test("NUL in a header value becomes U+FFFD", () => {
  const raw = Buffer.from("Subject: a\0b\r\n\r\n", "latin1");
  const out = envelope(parseMessage(raw), raw);
  assert.ok(out.includes(Buffer.from("a\uFFFDb", "utf8")));
});

test("Content-* without MIME-Version or Content-Type are ignored", () => {
  const plain = crlf("Content-Transfer-Encoding: base64", "", "aGk=");
  assert.equal(bs(plain, false), `(${TEXT_PLAIN} 6 1)`);
  const mime = crlf("MIME-Version: 1.0", "Content-Transfer-Encoding: base64", "", "aGk=");
  assert.equal(bs(mime, false), '("text" "plain" ("charset" "us-ascii") NIL NIL "base64" 6 1)');
});

test("RFC 2231 parameters: merged as Dovecot shows them, decoded in params", () => {
  const raw = crlf(
    "MIME-Version: 1.0",
    `Content-Type: application/octet-stream; name*=utf-8''%E2%82%AC.bin; x="=?utf-8?B?w6k=?="`,
    `Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC; filename*1=".txt"`,
    "",
    "x",
  );
  const root = parseMessage(raw);
  assert.equal(root.params.name, "€.bin");
  assert.equal(root.params.x, "é");
  assert.deepEqual(root.disposition?.params, [["filename*", "utf-8''%E2%82%AC.txt"]]);
  assert.equal(
    bs(raw),
    // RFC 2231 parameters come after the plain ones, as in Dovecot
    `("application" "octet-stream" ("x" "=?utf-8?B?w6k=?=" "name*" "utf-8''%E2%82%AC.bin") NIL NIL "7bit" 3 NIL ("attachment" ("filename*" "utf-8''%E2%82%AC.txt")) NIL NIL)`,
  );
});

test("multipart/digest parts default to message/rfc822", async () => {
  const raw = crlf(
    "Content-Type: multipart/digest; boundary=d",
    "",
    "--d",
    "",
    "Subject: inner",
    "",
    "hello",
    "--d--",
  );
  assert.equal(
    bs(raw, false),
    `(("message" "rfc822" NIL NIL NIL "7bit" 23 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) (${TEXT_PLAIN} 5 0) 2) "digest")`,
  );
  assert.equal(sec(raw, { part: [1, 1] }), "hello");
  assert.equal(sec(raw, { part: [1], text: "HEADER" }), "Subject: inner\r\n\r\n");
  await clientCrossCheck(raw);
});

test("message/global is an encapsulated message too", () => {
  const raw = Buffer.from(
    "MIME-Version: 1.0\r\nContent-Type: message/global\r\n\r\nSubject: é\r\n\r\nbody\r\n",
  );
  const root = parseMessage(raw);
  assert.equal(root.kind, "message");
  assert.ok(root.message);
  assert.match(bs(raw, false), /^\("message" "global" NIL NIL NIL "7bit" 21 \(NIL \{2\}\r\n/);
  assert.equal(sec(raw, { part: [1, 1] }), "body\r\n");
});

function nestedMultipart(depth: number): Buffer {
  const lines: string[] = ["MIME-Version: 1.0"];
  for (let i = 0; i < depth; i++) lines.push(`Content-Type: multipart/mixed; boundary=b${i}`, "", `--b${i}`);
  lines.push("Content-Type: text/plain", "", "deep");
  for (let i = depth - 1; i >= 0; i--) lines.push(`--b${i}--`);
  return crlf(...lines);
}

/** Parentheses outside quoted strings and literals balance. */
function balanced(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === "\\") i++;
    } else if (c === "{") {
      const close = s.indexOf("}\r\n", i);
      i = close + 2 + Number(s.slice(i + 1, close));
    } else if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

test(`deep nesting: ${MAX_DEPTH} levels are split, deeper parts stay opaque`, async () => {
  // a client parser has its own nesting limit (imapflow: 100 lists in a response)
  await clientCrossCheck(nestedMultipart(40));
  const levels100 = nestedMultipart(MAX_DEPTH);
  assert.equal(sec(levels100, { part: new Array<number>(MAX_DEPTH).fill(1) }), "deep");
  assert.ok(balanced(bs(levels100)));

  const deep = nestedMultipart(150);
  const root = parseMessage(deep);
  let p = root;
  let levels = 0;
  while (p.kind === "multipart" && p.children.length > 0) {
    p = p.children[0];
    levels++;
  }
  assert.equal(levels, MAX_DEPTH);
  assert.equal(p.kind, "other");
  const structure = bodyStructure(root, true).toString("latin1");
  assert.match(structure, /"application" "octet-stream"/);
  assert.ok(balanced(structure));

  const rfc822 = crlf(
    ...new Array(150).fill("Content-Type: message/rfc822\r\n").map((l) => l.slice(0, -2)),
    "",
    "x",
  );
  assert.ok(balanced(bodyStructure(parseMessage(rfc822), true).toString("latin1")));
});

test("huge header lines and many fields", () => {
  const long = `X-Long: ${"a".repeat(1 << 20)}`;
  const many = Array.from({ length: 20000 }, (_, i) => `X-F${i}: v${i}`);
  const raw = crlf(long, ...many, "Subject: end", "", "body");
  const root = parseMessage(raw);
  assert.equal(root.fields.length, 20002);
  assert.equal(sec(raw, { part: [], text: "HEADER.FIELDS", fields: ["subject"] }), "Subject: end\r\n\r\n");
  assert.equal(sec(raw, { part: [], text: "TEXT" }), "body\r\n");
  const folded = crlf(`Subject: ${Array.from({ length: 5000 }, () => "word").join("\r\n ")}`, "", "x");
  assert.match(env(folded), /^\(NIL \{24999\}\r\nword word /);
});
