/**
 * Interoperability with an independent DKIM implementation: Debian's python3-dkim (dkimpy).
 * Needs the apt package python3-dkim, run by the system python (/usr/bin/python3).
 * A missing module makes these tests fail, not skip.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { after, before, test } from "node:test";
import { type DkimKeyPair, dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { verifyAligned } from "../../src/dkim/verify.ts";
import { createResolver } from "../../src/dns/resolver.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";

const PYTHON = process.env.DKIM_TEST_PYTHON ?? "/usr/bin/python3";

const SCRIPT = `
import base64, json, sys
import dkim

out = []
for req in json.load(sys.stdin):
    msg = base64.b64decode(req["message"])
    if req["op"] == "verify":
        txt = req["txt"].encode()
        want = req["name"]
        def dnsfunc(name, timeout=5):
            n = name.decode() if isinstance(name, bytes) else name
            return txt if n.rstrip(".").lower() == want else None
        try:
            out.append({"ok": bool(dkim.DKIM(msg).verify(dnsfunc=dnsfunc))})
        except dkim.DKIMException as e:
            out.append({"ok": False, "error": str(e)})
    else:
        sig = dkim.sign(msg, req["selector"].encode(), req["domain"].encode(), req["key"].encode(),
                        canonicalize=(b"relaxed", b"simple"))
        out.append({"signature": base64.b64encode(sig).decode()})
json.dump(out, sys.stdout)
`;

type Request =
  | { op: "verify"; message: Buffer; txt: string; name: string }
  | { op: "sign"; message: Buffer; selector: string; domain: string; key: string };

async function dkimpy(requests: Request[]): Promise<{ ok?: boolean; error?: string; signature?: string }[]> {
  const child = spawn(PYTHON, ["-c", SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => stdout.push(c));
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  child.stdin.end(JSON.stringify(requests.map((r) => ({ ...r, message: r.message.toString("base64") }))));
  const code = await exit;
  assert.equal(
    code,
    0,
    `${PYTHON} with python3-dkim failed (apt-get install python3-dkim): ${Buffer.concat(stderr).toString()}`,
  );
  return JSON.parse(Buffer.concat(stdout).toString());
}

const DOMAIN = "example.org";
const SELECTOR = "opendkim";
const NAME = `${SELECTOR}._domainkey.${DOMAIN}`;

let key: DkimKeyPair;
let txt: string;
let dns: DnsServer;

before(async () => {
  key = await generateDkimKey();
  txt = dkimTxtRecord(key.publicKeyPem);
  dns = await startDnsServer({ [NAME]: { TXT: [txt] } });
});

after(async () => {
  await dns.close();
});

function message(body = "Hi,\r\n\r\nthis is a test.\r\n"): Buffer {
  return Buffer.from(
    "From: =?utf-8?q?Al=C3=AFce?= <alice@example.org>\r\n" +
      "To: bob@other.test,\r\n\tcarol@other.test\r\n" +
      "Subject:   [...]  \r\n" +
      "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n" +
      "Message-ID: <i1@example.org>\r\n" +
      "Reply-To: alice@example.org\r\n" +
      "Autocrypt: addr=alice@example.org; keydata=xsBNBGF\r\n AAAA\r\n BBBB\r\n" +
      "Chat-Version: 1.0\r\n" +
      "MIME-Version: 1.0\r\n" +
      'Content-Type: multipart/mixed; boundary="b1"\r\n' +
      "\r\n" +
      `--b1\r\nContent-Type: text/plain\r\n\r\n${body}--b1--\r\n\r\n\r\n`,
  );
}

test("our signatures verify with python3-dkim", async () => {
  const plain = await signMessage(message(), {
    domain: DOMAIN,
    selector: SELECTOR,
    privateKeyPem: key.privateKeyPem,
  });
  const lf = await signMessage(Buffer.from(message().toString("latin1").replaceAll("\r\n", "\n"), "latin1"), {
    domain: DOMAIN,
    selector: SELECTOR,
    privateKeyPem: key.privateKeyPem,
  });
  const eightBit = await signMessage(message("Gr\u00fc\u00dfe, \u00e0 bient\u00f4t \u2014 \u{1F600}\r\n"), {
    domain: DOMAIN,
    selector: SELECTOR,
    privateKeyPem: key.privateKeyPem,
  });
  const tampered = Buffer.from(
    plain.toString("latin1").replace("this is a test", "this is a trap"),
    "latin1",
  );
  const results = await dkimpy([
    { op: "verify", message: plain, txt, name: NAME },
    { op: "verify", message: lf, txt, name: NAME },
    { op: "verify", message: eightBit, txt, name: NAME },
    { op: "verify", message: tampered, txt, name: NAME },
  ]);
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true, true, false],
    JSON.stringify(results),
  );
  assert.match(results[3]?.error ?? "", /body hash mismatch/);
});

test("python3-dkim relaxed/simple signatures verify with verifyAligned", async () => {
  const pkcs1 = createPrivateKey(key.privateKeyPem).export({ type: "pkcs1", format: "pem" }).toString();
  const [signed] = await dkimpy([
    { op: "sign", message: message(), selector: SELECTOR, domain: DOMAIN, key: pkcs1 },
  ]);
  assert.ok(signed?.signature);
  const full = Buffer.concat([Buffer.from(signed.signature, "base64"), message()]);
  assert.match(full.toString("latin1"), /^DKIM-Signature:[\s\S]*c=relaxed\/simple/);
  const resolver = createResolver([dns.address], { timeoutMs: 3000 });
  assert.deepEqual(await verifyAligned(full, DOMAIN, resolver), { ok: true });
  const tampered = Buffer.from(full.toString("latin1").replace("[...]", "[..]"), "latin1");
  assert.deepEqual(await verifyAligned(tampered, DOMAIN, resolver), {
    ok: false,
    code: 554,
    text: "5.7.1 No valid DKIM signature found",
  });
});
