import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { fixture } from "../support/mail.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";

const run = promisify(execFile);

// Python's smtplib as an independent client: login, an encrypted message, the
// 523 for plain text, VRFY on the MX port.
const SCRIPT = `
import json, smtplib, ssl, sys
port, mx_port, user, password, enc, plain = sys.argv[1:7]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = {}
s = smtplib.SMTP_SSL("127.0.0.1", int(port), context=ctx)
s.login(user, password)
out["enc"] = s.sendmail(user, [user], open(enc, "rb").read())
try:
    s.sendmail(user, [user], open(plain, "rb").read())
    out["plain"] = "accepted"
except smtplib.SMTPDataError as e:
    out["plain"] = [e.smtp_code, e.smtp_error.decode()]
s.quit()
m = smtplib.SMTP("127.0.0.1", int(mx_port))
m.ehlo("other.test")
out["vrfy"] = list(m.verify(user)); out["vrfy"][1] = out["vrfy"][1].decode()
m.quit()
print(json.dumps(out))
`;

let r: TestRelay;
before(async () => {
  r = await startTestRelay();
});
after(() => r.close());

test("python smtplib: login, send, 523, VRFY", async () => {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const user = r.newAddress();
  const enc = join(r.config.data_dir, "enc.eml");
  const plain = join(r.config.data_dir, "plain.eml");
  writeFileSync(enc, fixture("encrypted", user, user));
  writeFileSync(plain, fixture("plain", user, user));
  const { stdout } = await run("python3", [
    "-c",
    SCRIPT,
    String(r.submissionsPort),
    String(r.smtpPort),
    user,
    r.password,
    enc,
    plain,
  ]);
  const out = JSON.parse(stdout);
  assert.deepEqual(out.enc, {});
  assert.deepEqual(out.plain, [523, "Encryption Needed: Invalid Unencrypted Mail"]);
  assert.equal(out.vrfy[0], 252);
  assert.match(out.vrfy[1], /^2\.0\.0/);
  const box = await r.relay.parts.store.getMailbox(user, "INBOX");
  assert.equal((await r.relay.parts.store.listMessages(box!.id)).length, 1);
});
