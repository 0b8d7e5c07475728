/**
 * Privacy: the SMTP listeners never look up the client's PTR record (that would
 * hand every client address to the resolver and delay the greeting).
 */
import assert from "node:assert/strict";
import dns from "node:dns";
import { test } from "node:test";
import { startTestRelay } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp.ts";

test("no reverse DNS lookup of SMTP clients on MX and submission", async () => {
  const original = dns.reverse;
  const asked: string[] = [];
  dns.reverse = ((ip: string, cb: (err: Error | null, names: string[]) => void) => {
    asked.push(ip);
    return original(ip, cb);
  }) as typeof dns.reverse;
  const r = await startTestRelay();
  try {
    for (const port of [r.smtpPort, r.submissionPort]) {
      const c = await RawSmtp.connect(port);
      assert.match(await c.command("EHLO client.test"), /^250/);
      await c.command("QUIT");
      c.close();
    }
    assert.deepEqual(asked, []);
  } finally {
    dns.reverse = original;
    await r.close();
  }
});
