/**
 * OpenDKIM, the reference relay's DKIM filter, verifies our signatures: `opendkim -t` (test
 * mode, Debian's opendkim package) reads a message file and verifies it against the keys in
 * TestPublicKeys (opendkim.conf(5)), without DNS. A forged field added above a signed one
 * must fail there too, which only oversigning achieves (test/dkim/oversign.test.ts).
 * A missing opendkim makes these tests fail, not skip.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type DkimKeyPair, dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { fixture } from "../support/mail.ts";

const run = promisify(execFile);
const DOMAIN = "example.org";
const SELECTOR = "opendkim";

let dir: string;
let key: DkimKeyPair;
let files = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "chatrelay-opendkim-"));
  key = await generateDkimKey();
  writeFileSync(join(dir, "keys"), `${SELECTOR}._domainkey.${DOMAIN} ${dkimTxtRecord(key.publicKeyPem)}\n`);
  writeFileSync(
    join(dir, "opendkim.conf"),
    ["Syslog no", "Mode v", `TestPublicKeys ${join(dir, "keys")}`, ""].join("\n"),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** OpenDKIM's verdict on one message: its "verification (…) succeeded/failed…" line. */
async function opendkim(message: Buffer): Promise<string> {
  const file = join(dir, `m${++files}.eml`);
  writeFileSync(file, message);
  const { stdout } = await run("opendkim", ["-x", join(dir, "opendkim.conf"), "-t", file], {
    timeout: 30_000,
  }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`opendkim failed (apt-get install opendkim): ${e.message} ${e.stderr ?? ""}`);
  });
  const verdict = /verification \(.*/.exec(stdout)?.[0];
  assert.ok(verdict, `opendkim said: ${stdout}`);
  return verdict;
}

/** The PGP/MIME fixture with base64 lines added to its armored body, about `size` bytes. */
function largeMessage(size: number): Buffer {
  const base = fixture("encrypted", `alice@${DOMAIN}`, "bob@other.test", "[...]").toString("latin1");
  const at = base.indexOf("-----BEGIN PGP MESSAGE-----\r\n\r\n") + 31;
  const line = `${"AbCd0123+/".repeat(7).slice(0, 64)}\r\n`;
  return Buffer.from(
    base.slice(0, at) + line.repeat(Math.floor(size / line.length)) + base.slice(at),
    "latin1",
  );
}

function sign(msg: Buffer): Promise<Buffer> {
  return signMessage(msg, { domain: DOMAIN, selector: SELECTOR, privateKeyPem: key.privateKeyPem });
}

const PLAIN =
  "From: Alice <alice@example.org>\r\nTo: bob@other.test\r\nSubject: hi\r\n" +
  "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n" +
  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n";

test("OpenDKIM verifies what we sign", async () => {
  const messages: Array<[string, Buffer]> = [
    ["a Delta Chat PGP/MIME message", fixture("encrypted", `alice@${DOMAIN}`, "bob@other.test", "[...]")],
    ["1 MiB", largeMessage(1 << 20)],
    ["empty body", Buffer.from(`${PLAIN}\r\n`)],
    ["trailing empty lines", Buffer.from(`${PLAIN}\r\nHello\r\n\r\n\r\n`)],
    [
      "white space and folds in signed fields",
      Buffer.from(
        `${PLAIN.replace("Subject: hi", "Subject:\t a \t long\r\n\tsubject  ")}` +
          "Autocrypt: addr=alice@example.org; prefer-encrypt=mutual;\r\n keydata=xsBNBGF\r\n AAAA  \r\n" +
          "\r\n  Hello \t\r\nworld",
      ),
    ],
    ["bare LF line ends", Buffer.from(`${PLAIN}\r\nHello\r\nworld\r\n`.replaceAll("\r\n", "\n"))],
  ];
  for (const [what, msg] of messages) assert.match(await opendkim(await sign(msg)), / succeeded$/, what);
});

test("OpenDKIM fails our signature when a From, Subject or Autocrypt field is added above", async () => {
  const signed = await sign(fixture("encrypted", `alice@${DOMAIN}`, "bob@other.test", "[...]"));
  assert.match(await opendkim(signed), / succeeded$/);
  for (const added of [
    "From: Mallory <mallory@example.org>\r\n",
    "Subject: urgent\r\n",
    "Autocrypt: addr=alice@example.org; keydata=bWFsbG9yeQ==\r\n",
  ]) {
    const forged = Buffer.concat([Buffer.from(added), signed]);
    assert.match(await opendkim(forged), /failed: signature verification failed$/, added);
  }
});
