/**
 * SMTP DATA through the encryption gate (src/policy/gate.ts), pure: mutated
 * messages derived from the chatmail mail-data vectors go through
 * checkOutgoing and checkIncoming. Properties: never throws; always a
 * verdict, and a rejection is one printable US-ASCII SMTP reply line (RFC
 * 5321 §4.2, §4.5.3.1.5: at most 512 octets with its CRLF) with a 4xx/5xx code; the same
 * input gives the same verdict; bounded time; and where the gate accepts a
 * message as PGP/MIME (RFC 3156 §4), the IMAP server's own MIME parser (what a
 * client sees through BODYSTRUCTURE) sees the same shape: multipart/encrypted
 * with an application/pgp-encrypted and an application/octet-stream part.
 */
import assert from "node:assert/strict";
import { parseMessage } from "../../../src/imap/mime/parse.ts";
import { checkEncrypted } from "../../../src/policy/encryption.ts";
import { checkIncoming, checkOutgoing, type Verdict } from "../../../src/policy/gate.ts";
import { type FuzzTarget, loadCorpus } from "../lib/engine.ts";

export const ALICE = "alice@c.example";
export const BOB = "bob@d.example";

/** Tokens of MIME and PGP/MIME syntax worth inserting. */
export const MAIL_DICTIONARY = [
  "\r\n",
  "\n",
  "\r\n\r\n",
  "--",
  "\r\n--",
  "--YFrteb74qSXmggbOxZL9dRnhymywAi",
  "--YFrteb74qSXmggbOxZL9dRnhymywAi--",
  "Content-Type: ",
  "Content-Type: multipart/encrypted; boundary=",
  "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
  "Content-Type: message/rfc822\r\n\r\n",
  "Content-Transfer-Encoding: base64\r\n",
  "Content-Transfer-Encoding: quoted-printable\r\n",
  "multipart/encrypted",
  "application/pgp-encrypted",
  "application/octet-stream",
  'protocol="application/pgp-encrypted"',
  "boundary=",
  'boundary*0="a"; boundary*1="b"',
  "boundary*=utf-8''%41",
  "; ",
  '"',
  "(",
  ")",
  "\\",
  "=?utf-8?b?",
  "=?utf-8?q?",
  "?=",
  "From: ",
  "From: alice@c.example\r\n",
  "<alice@c.example>",
  "@",
  "[127.0.0.1]",
  "Secure-Join: vc-request\r\n",
  "Autocrypt-Setup-Message: v1\r\n",
  "Version: 1",
  "-----BEGIN PGP MESSAGE-----",
  "-----END PGP MESSAGE-----",
  "\r\n=",
  "\t",
  " ",
  "=\r\n",
  ":",
];

const MAX_REPLY = 512;

function wellFormed(v: Verdict, where: string): void {
  assert.equal(typeof v.ok, "boolean", `${where}: no verdict`);
  if (v.ok) return;
  assert.ok(Number.isInteger(v.code) && v.code >= 400 && v.code <= 599, `${where}: code ${v.code}`);
  assert.equal(typeof v.text, "string", `${where}: text`);
  // RFC 5321 §4.2: reply text is printable US-ASCII (and tab).
  assert.ok(/^[\t\x20-\x7e]*$/.test(v.text), `${where}: not a textstring: ${JSON.stringify(v.text)}`);
  assert.ok(`${v.code} ${v.text}\r\n`.length <= MAX_REPLY, `${where}: reply of ${v.text.length} characters`);
}

/** What the IMAP side's parser sees where the gate saw PGP/MIME. */
export function clientShapeProblem(message: Buffer): string | null {
  const root = parseMessage(message);
  const kids = root.children;
  if (`${root.type}/${root.subtype}` !== "multipart/encrypted")
    return `IMAP parser sees ${root.type}/${root.subtype}`;
  if (kids.length !== 2) return `IMAP parser sees ${kids.length} parts`;
  const [a, b] = kids as [(typeof kids)[0], (typeof kids)[0]];
  if (`${a.type}/${a.subtype}` !== "application/pgp-encrypted")
    return `IMAP parser sees part 1 as ${a.type}/${a.subtype}`;
  if (`${b.type}/${b.subtype}` !== "application/octet-stream")
    return `IMAP parser sees part 2 as ${b.type}/${b.subtype}`;
  return null;
}

export function gateTarget(): FuzzTarget {
  return {
    name: "gate",
    mutator: { dictionary: MAIL_DICTIONARY, maxLength: 256 * 1024 },
    corpus: loadCorpus("gate"),
    slowMs: 1000,
    check(message) {
      const out = checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message });
      wellFormed(out, "outgoing");
      assert.deepEqual(
        checkOutgoing({ mailFrom: ALICE, recipients: [BOB], message }),
        out,
        "not deterministic",
      );
      for (const enforce of [true, false]) {
        const inc = checkIncoming({
          mailFrom: ALICE,
          recipients: [BOB],
          message,
          enforceE2EE: () => enforce,
        });
        wellFormed(inc, "incoming");
        for (const k of ["envelopeFrom", "from", "fromDomain"] as const)
          assert.equal(typeof inc[k], "string", k);
        assert.ok(inc.needs === "dkim" || inc.needs === "ip-literal", "needs");
      }
      for (const direction of ["outgoing", "incoming"] as const) {
        if (!checkEncrypted(message, direction).ok) continue;
        const problem = clientShapeProblem(message);
        assert.equal(problem, null, `the gate accepts PGP/MIME (${direction}) but ${problem}`);
      }
    },
  };
}
