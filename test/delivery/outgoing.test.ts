import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { testConfig } from "../../src/config/load.ts";
import { createSigner } from "../../src/delivery/dkim.ts";
import { LocalDelivery } from "../../src/delivery/local.ts";
import { Delivery } from "../../src/delivery/pipeline.ts";
import type { Envelope } from "../../src/delivery/types.ts";
import { dkimTxtRecord } from "../../src/dkim/keys.ts";
import { dkimKeyPath } from "../../src/dkim/path.ts";
import { LocalEventBus } from "../../src/events/bus.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/types.ts";
import { fixture } from "../support/mail.ts";

const run = promisify(execFile);

// Debian's python3-dkim (dkimpy) as the independent verifier; dnsfunc serves our key.
const VERIFY = `
import dkim, sys
msg = open(sys.argv[1], "rb").read()
txt = open(sys.argv[2], "rb").read()
ok = dkim.DKIM(msg).verify(dnsfunc=lambda name, timeout=5: txt)
print("pass" if ok else "fail")
`;

describe("outgoing mail: rewrite and DKIM signature (independent verifier)", () => {
  let dir: string;
  let store: Store;
  let delivery: Delivery;
  const sent: Array<{ envelope: Envelope; message: Buffer }> = [];
  const alice = "alice1234@chat.example";
  const remote = "bob123456@other.example";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-outgoing-"));
    const config = testConfig({ data_dir: dir, mail_domain: "chat.example" });
    store = await openStore(dir);
    const local = new LocalDelivery(config, store, new LocalEventBus(), silentLogger);
    delivery = new Delivery({
      config,
      log: silentLogger,
      local,
      signer: await createSigner(config),
      verifier: null,
      outbound: { enqueue: async (envelope, message) => void sent.push({ envelope, message }) },
    });
    const pem = readFileSync(dkimKeyPath(config), "utf8");
    const pub = createPublicKey(pem).export({ type: "spki", format: "pem" }).toString();
    writeFileSync(join(dir, "txt"), dkimTxtRecord(pub));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function dkimpy(message: Buffer): Promise<string> {
    writeFileSync(join(dir, "msg.eml"), message);
    const { stdout } = await run("/usr/bin/python3", ["-c", VERIFY, join(dir, "msg.eml"), join(dir, "txt")]);
    return stdout.trim();
  }

  test("a submitted message is rewritten, signed, and dkimpy verifies it", async () => {
    const original = Buffer.from(
      `Received: from [10.9.8.7] by somewhere\r\nX-Originating-IP: 10.9.8.7\r\nX-Mailer: Foo 1.0\r\nUser-Agent: Bar\r\n${fixture("encrypted", alice, remote, "hello there").toString()}`,
    );
    const reply = await delivery.accept({ mailFrom: alice, recipients: [remote] }, original, {
      kind: "submission",
      user: alice,
    });
    assert.equal(reply.code, 250, reply.text);
    const out = sent.at(-1)!.message;
    const text = out.toString();
    assert.match(text, /^DKIM-Signature: /);
    assert.match(text, /^Subject: \[\.\.\.\]\r$/m);
    for (const h of ["Received", "X-Originating-IP", "X-Mailer", "User-Agent"])
      assert.doesNotMatch(text, new RegExp(`^${h}:`, "mi"), h);
    assert.doesNotMatch(text, /10\.9\.8\.7/, "the sender's IP never leaves");
    assert.match(text, /h=[^;]*from[^;]*from/i, "From is over-signed");
    assert.equal(await dkimpy(out), "pass");
    // and a tampered copy fails, so the check can fail
    assert.equal(await dkimpy(Buffer.from(text.replace("Version: 1", "Version: 2"))), "fail");
  });

  test("bounces are DKIM-signed", async () => {
    await delivery.bounce(remote, fixture("encrypted", remote, alice), [
      { recipient: alice, status: "5.1.1", diagnostic: "550 5.1.1 User unknown" },
    ]);
    const dsn = sent.at(-1)!;
    assert.deepEqual(dsn.envelope, { mailFrom: "", recipients: [remote] });
    assert.match(dsn.message.toString(), /^From: Mail Delivery System <MAILER-DAEMON@chat\.example>/m);
    assert.equal(await dkimpy(dsn.message), "pass");
  });
});
