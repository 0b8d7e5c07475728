// The From address: RFC 5322 mailbox forms, one mailbox only.

import assert from "node:assert/strict";
import { test } from "node:test";
import { extractFrom, parseMailbox } from "../../src/policy/from.ts";
import { scanHeaders } from "../../src/policy/headers.ts";

const GOOD: [string, string, Partial<{ domain: string; literal: string | null; displayName: string }>?][] = [
  ["alice@example.org", "alice@example.org"],
  ["<alice@example.org>", "alice@example.org"],
  ["Alice <alice@example.org>", "alice@example.org", { displayName: "Alice" }],
  ["Alice Q. Public <alice@example.org>", "alice@example.org", { displayName: "Alice Q. Public" }],
  ['"Alice, the <first>" <alice@example.org>', "alice@example.org", { displayName: "Alice, the <first>" }],
  ['"bob@evil.example" <alice@example.org>', "alice@example.org"],
  ["=?utf-8?q?J=C3=B6rg?= <joerg@example.org>", "joerg@example.org", { displayName: "Jörg" }],
  ["=?utf-8?b?PGV2aWxAeC5vcmc+?= <alice@example.org>", "alice@example.org", { displayName: "<evil@x.org>" }],
  ["alice@example.org (Alice)", "alice@example.org"],
  ["(comment (nested)) Alice <alice(c)@(c)example.org>", "alice@example.org"],
  ["  ALICE@Example.ORG  ", "alice@example.org", { domain: "example.org" }],
  ['"alice"@example.org', "alice@example.org"],
  ['"john doe"@example.org', '"john doe"@example.org'],
  ['"a\\"b"@example.org', '"a\\"b"@example.org'],
  ["first.last@sub.example.org", "first.last@sub.example.org"],
  ["a+tag@_test.localchat", "a+tag@_test.localchat"],
  ["user@[192.0.2.1]", "user@[192.0.2.1]", { domain: "[192.0.2.1]", literal: "192.0.2.1" }],
  ["<user@[192.0.2.1]>", "user@[192.0.2.1]", { literal: "192.0.2.1" }],
  ["user@[IPv6:2001:db8::1]", "user@[ipv6:2001:db8::1]", { literal: "2001:db8::1" }],
  ["Srs <SRS0=HHH=TT=example.org=alice@example.net>", "srs0=hhh=tt=example.org=alice@example.net"],
  ["mailer-daemon@example.org", "mailer-daemon@example.org", { literal: null }],
];

test("parseMailbox: accepted forms", () => {
  for (const [input, address, extra] of GOOD) {
    const r = parseMailbox(input);
    assert.ok(r.ok, `${input}: ${JSON.stringify(r)}`);
    assert.equal(r.mailbox.address, address, input);
    for (const [k, v] of Object.entries(extra ?? {})) {
      assert.equal(r.mailbox[k as keyof typeof r.mailbox], v, `${input} ${k}`);
    }
  }
});

const BAD = [
  "",
  "alice",
  "alice@",
  "@example.org",
  "alice@@example.org",
  "alice@example..org",
  "alice@example.org.",
  ".alice@example.org",
  "alice@exa mple.org",
  "alice@-example.org",
  "alice@example.org, bob@example.org",
  "Friends: alice@example.org, bob@example.org;",
  "Undisclosed recipients:;",
  "<alice@example.org> trailing",
  "<alice@example.org",
  "alice@example.org>",
  "Alice <<alice@example.org>>",
  "alice@evil.org <alice@example.org>",
  '"unterminated <alice@example.org>',
  "(unterminated <alice@example.org>",
  "<@route.example:alice@example.org>",
  "user@[300.1.1.1]",
  "user@[1.2.3]",
  "user@[IPv6:2001:db8::1::2]",
  "user@[IPv6:192.0.2.1]",
  "user@[example.org]",
  "al\u0000ice@example.org",
  '"al\u0007ice"@example.org',
];

test("parseMailbox: refused forms", () => {
  for (const input of BAD) {
    const r = parseMailbox(input);
    assert.equal(r.ok, false, `${input}: ${JSON.stringify(r)}`);
  }
});

test("extractFrom: exactly one From field", () => {
  const one = extractFrom(scanHeaders(Buffer.from("To: b@x.org\r\nfrom: A <a@x.org>\r\n\r\n")));
  assert.ok(one.ok);
  assert.equal(one.mailbox.address, "a@x.org");
  const folded = extractFrom(scanHeaders(Buffer.from("From: A very long\r\n name <a@x.org>\r\n\r\n")));
  assert.ok(folded.ok);
  assert.equal(folded.mailbox.displayName, "A very long name");
  const two = extractFrom(scanHeaders(Buffer.from("From: a@x.org\r\nFrom: b@x.org\r\n\r\n")));
  assert.deepEqual(two, { ok: false, error: "more than one From field", raw: "a@x.org" });
  const none = extractFrom(scanHeaders(Buffer.from("To: b@x.org\r\n\r\n")));
  assert.deepEqual(none, { ok: false, error: "missing", raw: "" });
});
