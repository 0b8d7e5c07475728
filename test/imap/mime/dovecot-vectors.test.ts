// Test vectors of Dovecot's own unit tests (lib-imap test-imap-bodystructure.c
// and test-imap-envelope.c), compared byte for byte. The messages are written
// with LF there and sized as CRLF, so they are converted to CRLF here.

import assert from "node:assert/strict";
import { test } from "node:test";
import { bodyStructure } from "../../../src/imap/mime/bodystructure.ts";
import { envelope } from "../../../src/imap/mime/envelope.ts";
import { parseMessage } from "../../../src/imap/mime/parse.ts";

const crlf = (lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\r\n`).join(""), "latin1");

const LOREM = [
  "Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Aenean commodo",
  "ligula eget dolor. Aenean massa. Cum sociis natoque penatibus et magnis dis",
  "parturient montes, nascetur ridiculus mus. Donec quam felis, ultricies nec,",
  "pellentesque eu, pretium quis, sem. Nulla consequat massa quis enim. Donec",
  "pede justo, fringilla vel, aliquet nec, vulputate eget, arcu. In enim justo,",
  "rhoncus ut, imperdiet a, venenatis vitae, justo. Nullam dictum felis eu pede",
  "mollis pretium. Integer tincidunt. Cras dapibus. Vivamus elementum semper",
  "nisi. Aenean vulputate eleifend tellus. Aenean leo ligula, porttitor eu,",
  "consequat vitae, eleifend ac, enim. Aliquam lorem ante, dapibus in, viverra",
  "quis, feugiat a, tellus. Phasellus viverra nulla ut metus varius laoreet.",
  "Quisque rutrum. Aenean imperdiet. Etiam ultricies nisi vel augue. Curabitur",
  "ullamcorper ultricies nisi. Nam eget dui.",
];

const PNG = [
  "iVBORw0KGgoAAAANSUhEUgAAAB8AAAAfCAYAAAAfrhY5AAAABHNCSVQICAgIfAhkiAAAAAlwSFlz",
  "AAAGJwAABicBTVTYxwAAABl0RVh0U29mdHdhcmUAd3d3Lmlua3NjYXBlLm9yZ5vuPBoAAAN2SURB",
  "VEiJ7ZfdK7tvHMffZuWpKTlR1my3bTEPU0hJcsABh0QrKYUTJ5KyHCzlyPwBkpSyg1mUpB3ILYna",
  "lEYKcbADm4cDD7NpM2bv75HF1/az8l3fX/1+77pO7vu6rtf1/jx0X3caSeIvSfK3wP/DPykcDsNs",
  "NqOqqgpdXV3Y2NhIGVz6+4PJyUlcXFxAFEV4vV709fVBrVZDpVL9eTo/aGVlhXl5efT5fDw/P2c4",
  "HKbdbmd3dzdTIZDk6+srh4eHqdPpqNfrSZJGo5H7+/sMBoNUKpUpgUsAQCqVQq1WIxgMfgp/dXU1",
  "srKykJ+fD6/X+8ejHiu4wcFB2Gy2uJPq6uqwt7eXOjgAaLXahHCn05laeCKlyvmXVosnrVaLQCCA",
  "4uJiyOVyCIIQGyqVCoIgoKCgIDXwtLQ0HBwc4O3tDR6PB263G263G8fHx1hbW4Pb7cbNzQ1yc3Nj",
  "hxEEAdXV1WhoaEi88cfSf3h4iLXaR01MTFChUFChULCjo4M7OztxW8fn89HlcnF5eZlTU1Nsb29n",
  "W1sb/X5/3PlJwd/19vbG7e1tlpWVcXV19ftGJjk0NESbzRb33aeCy8zMhM/nSxgliUSCxsZGiKKI",
  "ra2tb9N1e3uLSCSC8fFxGAwGDAwMfC7c309TWFjI09PTpFwlis76+jo7OzspCAJNJhN3d3fpcDho",
  "tVqpUCgYCoVIkl8Krr6+Hna7HSUlJd86+yiPx4P5+XlYLBZUVFSgv78fVqsV6enpAIC7uzt4vV5E",
  "IhFIJJL4zp1OJ2traxmJRL51+fLywuXlZba2trK0tJRms5mXl5c8PT3l4uIix8bG2NbWRqVSyfLy",
  "cvb09PDw8DC2Po38eocbGRlBIBDA9PQ0pNKv3Xh2doa5uTksLCwgJycHNTU1yM3NxdHREa6vr6HR",
  "aKDX62NDp9MhIyPjyz5x4SQxOjoKURTR29sLmUyG7Oxs+P1+WCwW7O7uQiKRQKvVQq/Xo7KyMgaS",
  "y+VJpyou/F0nJydYWlqCy+XC1dUV7u/vYTQa8fT0BIfDgaWlpaRBcZVsFc/OznJsbIwkaTKZODMz",
  "k+zShEr6Arm5uYnm5mYAgCiKaGlp+ZnrZJ1Ho1EWFRXx+fmZj4+P1Gg0P3ZNJqj2dxkMhth3PBAI",
  "QCaTIRqNIhQKoamp6cc5/0d4qvXv+mn4z8B/AV1UVu6zi+zUAAAAAElFTkSuQmCC",
];

const HDR = ["From: user@domain.org", "Date: Sat, 24 Mar 2017 23:00:00 +0200", "Mime-Version: 1.0"];
/** The plain-text message of the vectors, alone and as the body of a message/rfc822 part. */
const PLAIN_MESSAGE = [...HDR, "Content-Type: text/plain; charset=us-ascii", "", "body"];
/** A multipart/mixed header with the boundary "foo bar", up to its first boundary line. */
const MIXED_HDR = [...HDR, 'Content-Type: multipart/mixed; boundary="foo bar"', "", "--foo bar"];
/** The header of Dovecot's multipart vectors whose boundary "foo bar" is folded, with its blank line. */
const FOLDED_BOUNDARY_HDR = [
  "From: user@domain.org",
  "Date: Sat, 24 Mar 2007 23:00:00 +0200",
  "Mime-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="foo',
  ' bar"',
  "",
];
const RFC822_ENV =
  '("Sat, 24 Mar 2017 23:00:00 +0200" NIL ((NIL NIL "user" "domain.org")) ((NIL NIL "user" "domain.org")) ((NIL NIL "user" "domain.org")) NIL NIL NIL NIL NIL)';

const BODYSTRUCTURE_VECTORS: Array<{ message: Buffer; bodystructure: string; body: string }> = [
  {
    message: crlf(PLAIN_MESSAGE),
    bodystructure: '"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL',
    body: '"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1',
  },
  {
    message: crlf([
      ...HDR,
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      "body",
      "",
    ]),
    bodystructure: '"text" "plain" ("charset" "utf-8") NIL NIL "8bit" 8 2 NIL NIL NIL NIL',
    body: '"text" "plain" ("charset" "utf-8") NIL NIL "8bit" 8 2',
  },
  {
    message: crlf([
      ...FOLDED_BOUNDARY_HDR,
      "--foo bar",
      "Content-Type: text/x-myown; charset=us-ascii",
      "",
      "hello",
      "",
      "--foo bar--",
      "",
    ]),
    bodystructure:
      '("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL',
    body: '("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1) "mixed"',
  },
  {
    message: crlf([
      ...MIXED_HDR,
      "Content-Type: text/plain; charset=us-ascii",
      "",
      "See attached...",
      "",
      "--foo bar",
      "Content-Type: message/rfc822",
      "",
      ...PLAIN_MESSAGE,
      "",
      "--foo bar--",
      "",
    ]),
    bodystructure: `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 133 ${RFC822_ENV} ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL`,
    body: `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1)("message" "rfc822" NIL NIL NIL "7bit" 133 ${RFC822_ENV} ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1) 6) "mixed"`,
  },
  {
    message: crlf([
      ...MIXED_HDR,
      "Content-Type: text/plain; charset=us-ascii",
      "Content-ID: <A.frop.example.com>",
      "Content-Description: Container message",
      "",
      "See attached...",
      "",
      "--foo bar",
      "Content-Type: message/rfc822",
      "Content-ID: <B.frop.example.com>",
      "Content-Description: Forwarded",
      "",
      ...PLAIN_MESSAGE,
      "",
      "--foo bar--",
    ]),
    bodystructure: `("text" "plain" ("charset" "us-ascii") "<A.frop.example.com>" "Container message" "7bit" 17 1 NIL NIL NIL NIL)("message" "rfc822" NIL "<B.frop.example.com>" "Forwarded" "7bit" 133 ${RFC822_ENV} ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL`,
    body: `("text" "plain" ("charset" "us-ascii") "<A.frop.example.com>" "Container message" "7bit" 17 1)("message" "rfc822" NIL "<B.frop.example.com>" "Forwarded" "7bit" 133 ${RFC822_ENV} ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1) 6) "mixed"`,
  },
  {
    message: crlf([
      ...MIXED_HDR,
      'Content-Type: text/plain; charset=us-ascii; format="flowed";',
      '  delsp="no"',
      "Content-Language: la",
      "",
      ...LOREM,
      "",
      "--foo bar",
      "Content-Type: image/png",
      "Content-Transfer-Encoding: base64",
      'Content-Disposition: attachment; filename="pigeon.png"',
      "",
      ...PNG,
      "--foo bar--",
    ]),
    bodystructure:
      '("text" "plain" ("charset" "us-ascii" "format" "flowed" "delsp" "no") NIL NIL "7bit" 881 12 NIL NIL ("la") NIL)("image" "png" NIL NIL NIL "base64" 1390 NIL ("attachment" ("filename" "pigeon.png")) NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL',
    body: '("text" "plain" ("charset" "us-ascii" "format" "flowed" "delsp" "no") NIL NIL "7bit" 881 12)("image" "png" NIL NIL NIL "base64" 1390) "mixed"',
  },
  {
    message: crlf([
      ...FOLDED_BOUNDARY_HDR,
      "Root MIME prologue",
      "",
      "--foo bar",
      'Content-Type: text/x-myown; charset=us-ascii; foo="quoted\\"string"',
      "Content-ID: <foo@example.com>",
      "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
      "Content-Disposition: inline; foo=bar",
      "Content-Description: hellodescription",
      "Content-Language: en, fi, se",
      "Content-Location: http://example.com/test.txt",
      "",
      "hello",
      "",
      "--foo bar",
      "Content-Type: message/rfc822",
      "",
      "From: sub@domain.org",
      "To: sub-to1@domain.org, sub-to2@domain.org",
      "Date: Sun, 12 Aug 2012 12:34:56 +0300",
      "Subject: submsg",
      'Content-Type: multipart/alternative; boundary="sub1"',
      "",
      "Sub MIME prologue",
      "--sub1",
      "Content-Type: text/html",
      "Content-Transfer-Encoding: 8bit",
      "",
      "<p>Hello world</p>",
      "",
      "--sub1",
      "Content-Type: text/plain",
      "Content-Transfer-Encoding: ?invalid",
      "",
      "Hello another world",
      "",
      "--sub1--",
      "Sub MIME epilogue",
      "",
      "--foo bar--",
      "Root MIME epilogue",
    ]),
    bodystructure:
      '("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" ("foo" "bar")) ("en" "fi" "se") "http://example.com/test.txt")("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1 NIL NIL NIL NIL) "alternative" ("boundary" "sub1") NIL NIL NIL) 21 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL',
    body: '("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1) "alternative") 21) "mixed"',
  },
  {
    message: crlf(['Content-Type: multipart/mixed; boundary="foo"', ""]),
    bodystructure:
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "foo") NIL NIL NIL',
    body: '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed"',
  },
];

BODYSTRUCTURE_VECTORS.forEach((v, i) => {
  test(`Dovecot bodystructure vector ${i}`, () => {
    const root = parseMessage(v.message);
    assert.equal(bodyStructure(root, true).toString("latin1"), `(${v.bodystructure})`);
    assert.equal(bodyStructure(root, false).toString("latin1"), `(${v.body})`);
  });
});

const ENVELOPE_VECTORS: Array<{ message: string[]; envelope: string }> = [
  {
    message: [
      "Message-ID: <msg@id>",
      "In-Reply-To: <reply@to.id>",
      "Date: Thu, 15 Feb 2007 01:02:03 +0200",
      "Subject: subject header",
      "From: From Real <fromuser@fromdomain.org>",
      "To: To Real <touser@todomain.org>",
      "Cc: Cc Real <ccuser@ccdomain.org>",
      "Bcc: Bcc Real <bccuser@bccdomain.org>",
      "Sender: Sender Real <senderuser@senderdomain.org>",
      "Reply-To: ReplyTo Real <replytouser@replytodomain.org>",
    ],
    envelope:
      '"Thu, 15 Feb 2007 01:02:03 +0200" "subject header" (("From Real" NIL "fromuser" "fromdomain.org")) (("Sender Real" NIL "senderuser" "senderdomain.org")) (("ReplyTo Real" NIL "replytouser" "replytodomain.org")) (("To Real" NIL "touser" "todomain.org")) (("Cc Real" NIL "ccuser" "ccdomain.org")) (("Bcc Real" NIL "bccuser" "bccdomain.org")) "<reply@to.id>" "<msg@id>"',
  },
  {
    message: ["Date: Thu, 15 Feb 2007 01:02:03 +0200", "From: user@domain"],
    envelope:
      '"Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) NIL NIL NIL NIL NIL',
  },
  {
    message: [
      "Date: Thu, 15 Feb 2007 01:02:03 +0200",
      "From: user@domain (Real Name)",
      "To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;",
      "Cc: group:;, group2: (foo) ;",
    ],
    envelope:
      '"Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) ((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) ((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)) NIL NIL NIL',
  },
  {
    message: [
      "Date: Thu, 15 Feb 2007 01:02:03 +0200",
      "From: user@domain (Real Name)",
      "Sender: ",
      "Reply-To: ",
    ],
    envelope:
      '"Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) NIL NIL NIL NIL NIL',
  },
  {
    message: ["Date: Thu, 15 Feb 2007 01:02:03 +0200", "From: <@route:user@domain>"],
    envelope:
      '"Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL',
  },
];

ENVELOPE_VECTORS.forEach((v, i) => {
  test(`Dovecot envelope vector ${i}`, () => {
    const raw = crlf([...v.message, "", "body"]);
    assert.equal(envelope(parseMessage(raw), raw).toString("latin1"), `(${v.envelope})`);
  });
});
