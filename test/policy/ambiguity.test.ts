// Headers the gate decides on, written so that MIME parsers disagree about them,
// are refused (src/policy/ambiguity.ts). Python's email package, under both of its
// policies, is the oracle for "parsers disagree"; where Python agrees with us and
// only Rust mailparse (Delta Chat's parser) reads the value differently, the row
// says why.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { unclearContentType, validBoundary } from "../../src/policy/ambiguity.ts";
import { isEncrypted } from "../../src/policy/encryption.ts";
import { checkIncoming, checkOutgoing } from "../../src/policy/gate.ts";
import { isSecureJoin } from "../../src/policy/securejoin.ts";
import { fixture } from "../support/mail.ts";
import { ALICE, armor, BOB, packet, pgpMime } from "./helpers.ts";

const B = "YFrteb74qSXmggbOxZL9dRnhymywAi";
const ARMOR = armor(Buffer.concat([packet(1, Buffer.alloc(94, 1)), packet(18, Buffer.alloc(300, 2))]));
const VALID = pgpMime(ARMOR).toString("latin1");
const TOP = `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n\tboundary="${B}"`;
const NEED = { ok: false, code: 523, text: "Encryption Needed: Invalid Unencrypted Mail" };

interface View {
  type?: string;
  boundary?: string | null;
  parts?: string[] | null;
  error?: string;
}
type Oracle = { compat32: View; default: View };

/** How Python's email package reads each message (test/policy/mime-oracle.py). */
function python(messages: string[]): Oracle[] {
  const script = fileURLToPath(new URL("mime-oracle.py", import.meta.url));
  const r = spawnSync("python3", [script], { input: JSON.stringify(messages), maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return JSON.parse(r.stdout.toString()) as Oracle[];
}

/** The reading under which the message is PGP/MIME encrypted. */
const CANONICAL: View = {
  type: "multipart/encrypted",
  boundary: B,
  parts: ["application/pgp-encrypted", "application/octet-stream"],
};

function swap(text: string, search: string, replacement: string, all = false): string {
  const out = all ? text.replaceAll(search, replacement) : text.replace(search, replacement);
  assert.notEqual(out, text, `no match for ${search}`);
  return out;
}

/** The message with its delimiter lines written as `--${delim}`. */
function delimiters(text: string, delim: string): string {
  return swap(swap(text, `\r\n--${B}--`, `\r\n--${delim}--`), `\r\n--${B}\r\n`, `\r\n--${delim}\r\n`, true);
}

interface Row {
  what: string;
  message: string;
  /** Set when Python reads it as we would have: the reason another parser does not. */
  pythonAgrees?: string;
  /** The boundary in our reading, when the row changes it. */
  boundary?: string;
}

const ROWS: Row[] = [
  {
    what: "comment inside the media type",
    message: swap(VALID, "multipart/encrypted;", "multipart/(x)encrypted;"),
  },
  {
    what: "comment after the media type",
    message: swap(VALID, "multipart/encrypted;", "multipart/encrypted (x);"),
  },
  {
    what: "space inside the media type",
    message: swap(VALID, "multipart/encrypted;", "multipart/ encrypted;"),
  },
  { what: "folded media type", message: swap(VALID, "multipart/encrypted;", "multipart/\r\n encrypted;") },
  {
    what: "encoded word as the boundary",
    message: delimiters(
      swap(VALID, `boundary="${B}"`, `boundary="=?us-ascii?q?${B}?="`),
      `=?us-ascii?q?${B}?=`,
    ),
  },
  {
    what: "backslash (quoted-pair) in the boundary",
    message: swap(VALID, `boundary="${B}"`, `boundary="\\${B}"`),
  },
  { what: "text after the quoted boundary", message: swap(VALID, `boundary="${B}"`, `boundary="${B}"x`) },
  {
    what: "whitespace between field name and colon",
    message: swap(VALID, "Content-Type: multipart/encrypted", "Content-Type : multipart/encrypted"),
  },
  {
    what: "a second Content-Type field",
    message: swap(VALID, "MIME-Version: 1.0\r\n", "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"),
  },
  {
    what: "RFC 2231 continuation of the boundary",
    message: swap(VALID, `boundary="${B}"`, `boundary*0="${B.slice(0, 9)}"; boundary*1="${B.slice(9)}"`),
    pythonAgrees: "mailparse does not join boundary*0/boundary*1",
  },
  {
    what: "RFC 2231 extended boundary",
    message: swap(VALID, `boundary="${B}"`, `boundary*=us-ascii''${B}`),
    pythonAgrees: "older mailparse releases do not decode RFC 2231 parameters at all",
  },
  {
    what: "semicolon inside the quoted boundary",
    message: delimiters(swap(VALID, `boundary="${B}"`, `boundary="${B};x"`), `${B};x`),
    boundary: `${B};x`,
    pythonAgrees: "older mailparse releases split parameters at every ';', even inside quotes",
  },
  {
    what: "encoded word in a parameter",
    message: swap(
      VALID,
      'protocol="application/pgp-encrypted"',
      'protocol="=?utf-8?q?application/pgp-encrypted?="',
    ),
    pythonAgrees: "mailparse decodes encoded words anywhere in a header value",
  },
  {
    what: "comment in part 1's type",
    message: swap(
      VALID,
      "Content-Type: application/pgp-encrypted",
      "Content-Type: application/(x)pgp-encrypted",
    ),
  },
  {
    what: "comment after part 2's type",
    message: swap(VALID, "application/octet-stream;", "application/octet-stream (x);"),
  },
  {
    what: "whitespace before the colon in part 1",
    message: swap(
      VALID,
      "Content-Type: application/pgp-encrypted",
      "Content-Type : application/pgp-encrypted",
    ),
  },
  {
    what: "comment in part 1's transfer encoding",
    message: swap(
      VALID,
      "Content-Type: application/pgp-encrypted",
      "Content-Transfer-Encoding: 7bit (x)\r\nContent-Type: application/pgp-encrypted",
    ),
    pythonAgrees:
      "the transfer encoding is not part of the structure; '7bit (x)' is no RFC 2045 §6.1 mechanism",
  },
];

test("baseline: the canonical message passes, and Python reads it the same", () => {
  assert.equal(isEncrypted(Buffer.from(VALID, "latin1"), "incoming"), true);
  assert.ok(VALID.includes(TOP));
  const [o] = python([VALID]);
  assert.deepEqual(o, { compat32: CANONICAL, default: CANONICAL });
});

for (const row of ROWS) {
  test(`refused: ${row.what}`, () => {
    const message = Buffer.from(row.message, "latin1");
    assert.equal(isEncrypted(message, "incoming"), false);
    assert.deepEqual(checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message }), NEED);
    const inc = checkIncoming({ mailFrom: ALICE, recipients: [BOB], message, enforceE2EE: () => true });
    assert.deepEqual({ ok: inc.ok, code: (inc as { code?: number }).code }, { ok: false, code: 523 });
  });
}

test("oracle: Python reads each refused message differently, unless the row says who else does", () => {
  const views = python(ROWS.map((r) => r.message));
  ROWS.forEach((row, i) => {
    const o = views[i]!;
    const ours = JSON.stringify({ ...CANONICAL, boundary: row.boundary ?? B });
    const same = JSON.stringify(o.compat32) === ours && JSON.stringify(o.default) === ours;
    if (row.pythonAgrees === undefined) assert.ok(!same, `${row.what}: Python reads ${JSON.stringify(o)}`);
    else assert.ok(same, `${row.what}: Python disagrees too (${JSON.stringify(o)}); drop the note`);
  });
});

test("still accepted: case, spacing and quoting all parsers agree on", () => {
  const variants = [
    swap(VALID, "Content-Type: multipart/encrypted", "Content-Type:multipart/encrypted"),
    swap(VALID, "Content-Type: multipart/encrypted", "Content-Type:\tmultipart/encrypted"),
    swap(VALID, "Content-Type: multipart/encrypted", "content-type: Multipart/Encrypted"),
    swap(VALID, `boundary="${B}"`, `boundary=${B}`),
    swap(VALID, `boundary="${B}"`, `boundary = "${B}" `),
    swap(VALID, "application/octet-stream;", "application/octet-stream ;"),
  ];
  const views = python(variants);
  variants.forEach((v, i) => {
    assert.equal(isEncrypted(Buffer.from(v, "latin1"), "incoming"), true, v.slice(0, 300));
    assert.deepEqual(views[i], { compat32: CANONICAL, default: CANONICAL });
  });
});

test("the Secure-Join part is held to the same rule", () => {
  const sj = fixture("securejoin-vc", ALICE, BOB);
  assert.equal(isSecureJoin(sj), true);
  const text = sj.toString("latin1");
  const at = text.lastIndexOf("Content-Type: text/plain");
  assert.ok(at > 0);
  const bad = `${text.slice(0, at)}Content-Type: text/(x)plain${text.slice(at + 24)}`;
  assert.equal(isSecureJoin(Buffer.from(bad, "latin1")), false);
});

test("value rules", () => {
  const ok = [
    'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="a b/c:d=e?f"',
    "text/plain; charset=utf-8; format=flowed; delsp=no",
    'application/octet-stream; name="encrypted.asc";',
    'multipart/report; report-type=delivery-status;\tboundary="JAA13167.773673707/CS.UTK.EDU"',
  ];
  for (const v of ok) assert.equal(unclearContentType(v), null, v);
  const bad: Array<[string, string]> = [
    ['text/plain; name="a', "unterminated quoted string"],
    ["text/plain; flag", "parameter without a value"],
    ["text/plain; a=b c", "unquoted value is not a token"],
    ["text/plain; charset*=utf-8''x", "RFC 2231 form of charset"],
    ['multipart/mixed; boundary="ends in space "', "boundary outside RFC 2046 syntax"],
    ["text/plain; name=caf\u00e9", "8-bit or control character"],
    ["text/plain (x)", "comment"],
  ];
  for (const [v, why] of bad) assert.equal(unclearContentType(v), why, v);
  assert.equal(validBoundary("x".repeat(70)), true);
  assert.equal(validBoundary("x".repeat(71)), false);
});

// Random damage to the MIME headers: whenever the gate still calls the result
// encrypted, Python must read the same structure (random seeds on every run).
const NOISE = [
  "(x)",
  "(",
  ")",
  " ",
  "\t",
  '"',
  "\\",
  ";",
  "=",
  "*",
  "*0",
  "'",
  "=?utf-8?q?x?=",
  "\r\n ",
  "/",
  ":",
  "x",
];

test("property: what the gate accepts as encrypted, Python reads as the same structure", () => {
  const headerStarts = [...VALID.matchAll(/Content-(Type|Transfer-Encoding|Description)/g)].map(
    (m) => m.index!,
  );
  const mutation = fc.array(
    fc.record({
      field: fc.constantFrom(...headerStarts),
      offset: fc.nat(60),
      noise: fc.constantFrom(...NOISE),
    }),
    { minLength: 1, maxLength: 3 },
  );
  const samples = fc.sample(mutation, 400).map((muts) => {
    let text = VALID;
    // Apply from the back so earlier offsets stay valid.
    for (const m of [...muts].sort((a, b) => b.field + b.offset - (a.field + a.offset))) {
      const at = Math.min(m.field + m.offset, text.indexOf("\r\n", m.field));
      text = text.slice(0, at) + m.noise + text.slice(at);
    }
    return text;
  });
  const accepted = samples.filter((s) => isEncrypted(Buffer.from(s, "latin1"), "incoming"));
  const views = python(accepted);
  accepted.forEach((s, i) => {
    assert.deepEqual(views[i], { compat32: CANONICAL, default: CANONICAL }, `accepted:\n${s.slice(0, 500)}`);
  });
});
