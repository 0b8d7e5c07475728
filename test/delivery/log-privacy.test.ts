/**
 * Nothing identifying at the default log level (src/log.ts): while a user is
 * created, logs in over IMAP, sends to a local user and to another domain (that
 * delivery fails and is deferred), no info/warn/error record names the address,
 * its local part, the remote domain or the client's IP. The same run at debug
 * level does contain them, so the capture is known to work.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { createLogger } from "../../src/log.ts";
import { loggedIn } from "../imap/support/raw-client.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { until as poll, startTestRelay } from "../support/relay.ts";
import { sendFixture } from "../support/send.ts";

const REMOTE = "farpeer-logtest.test";
let dns: DnsServer;

before(async () => {
  // The remote domain's MX is on loopback where nothing listens: the delivery fails.
  dns = await startDnsServer({
    [REMOTE]: { MX: [{ exchange: `mx.${REMOTE}`, priority: 10 }] },
    [`mx.${REMOTE}`]: { A: ["127.0.0.1"] },
  });
});
after(() => dns.close());

/** Runs the scenario with a logger at `level`; returns the records and the identifying strings. */
async function scenario(level: string): Promise<{ records: string[]; secrets: string[] }> {
  const records: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n")) if (line.trim()) records.push(line);
      cb();
    },
  });
  const r = await startTestRelay({ dns_servers: [dns.address] }, { log: createLogger(level, sink) });
  try {
    const alice = r.newAddress();
    const bob = r.newAddress();
    const remote = `someone@${REMOTE}`;
    for (const u of [alice, bob]) (await loggedIn(r.imapsPort, u, r.password)).close();
    const local = await sendFixture(r, "encrypted", alice, bob);
    assert.ok(local.ok, local.response);
    const out = await sendFixture(r, "encrypted", alice, remote);
    assert.ok(out.ok, out.response);
    // Wait for the first delivery attempt to be over (the job is rescheduled).
    await poll("a failed outbound attempt", async () => {
      const jobs = await r.relay.parts.store.listJobs("outbound");
      return jobs.some((j) => j.attempts > 0) ? true : undefined;
    });
    const secrets = [alice, alice.split("@")[0]!, bob, bob.split("@")[0]!, REMOTE, "127.0.0.1"];
    return { records, secrets };
  } finally {
    await r.close();
  }
}

test("info-level records hold no address, local part, remote domain or IP", async () => {
  const { records, secrets } = await scenario("info");
  assert.ok(records.length > 0, "something was logged");
  for (const rec of records) {
    const level = (JSON.parse(rec) as { level: number }).level;
    assert.ok(level >= 30, `only info and above: ${rec}`);
    for (const s of secrets) assert.ok(!rec.toLowerCase().includes(s.toLowerCase()), `"${s}" in ${rec}`);
  }
});

test("the same run at debug level does show such details (the capture works)", async () => {
  const { records } = await scenario("debug");
  assert.ok(
    records.some((r) => r.includes(REMOTE)),
    "the remote domain appears in a debug record",
  );
});
