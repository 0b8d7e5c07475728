/**
 * No requests to the inside: without outbound_allow_private the queue never
 * connects to loopback, private, link-local, … addresses, whether they come
 * from an address literal or from DNS, and bounces such mail with a generic
 * text. Bounces never carry raw socket errors.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildBounce, type FailedRecipient } from "../../src/delivery/bounce.ts";
import { until } from "../support/relay.ts";
import { countingPort, MESSAGE, type Records, startQueue, tableResolver } from "./outbound-harness.ts";

const ZONE: Record<string, Records> = {
  "inside.test": { MX: [{ exchange: "mx.inside.test", priority: 10 }] },
  "mx.inside.test": { A: ["127.0.0.1"] },
  // an implicit MX (no MX record) whose address is private
  "implicit.test": { A: ["10.1.2.3"] },
  // IPv4-mapped IPv6 form of loopback
  "mapped.test": { MX: [{ exchange: "mx.mapped.test", priority: 10 }] },
  "mx.mapped.test": { AAAA: ["::ffff:127.0.0.1"] },
  // two MX hosts, both inside: each is skipped
  "two.test": {
    MX: [
      { exchange: "a.two.test", priority: 10 },
      { exchange: "b.two.test", priority: 20 },
    ],
  },
  "a.two.test": { A: ["169.254.169.254"], AAAA: ["fe80::1"] },
  "b.two.test": { A: ["127.0.0.1"], AAAA: ["::1"] },
};

const INSIDE = [
  "bob123456@[127.0.0.1]",
  "bob123456@[10.0.0.1]",
  "bob123456@[IPv6:::1]",
  "bob123456@[100.64.0.1]",
  "bob123456@inside.test",
  "bob123456@implicit.test",
  "bob123456@mapped.test",
  "bob123456@two.test",
];

function bounceText(failed: FailedRecipient[]): string {
  return buildBounce({
    domain: "_origin.test",
    reportingMta: "_origin.test",
    to: "alice1234@_origin.test",
    original: MESSAGE,
    failed,
  }).toString();
}

describe("outbound to private addresses", () => {
  let https: Awaited<ReturnType<typeof countingPort>>;
  let smtp: Awaited<ReturnType<typeof countingPort>>;

  before(async () => {
    https = await countingPort();
    smtp = await countingPort();
  });
  after(async () => {
    await https.close();
    await smtp.close();
  });

  test("outbound_allow_private=false: no connection is made, every recipient bounces", async () => {
    const q = await startQueue(
      { outbound_allow_private: false, outbound_https_port: https.port, outbound_smtp_port: smtp.port },
      tableResolver(ZONE),
    );
    try {
      // one job per domain, as the pipeline hands them over
      for (const rcpt of INSIDE) await q.send([rcpt]);
      const failed = await until(
        "a bounce for every recipient",
        () => {
          const all = q.failed.flatMap((f) => f.failed);
          return all.length >= INSIDE.length ? all : undefined;
        },
        () =>
          `bounced: ${JSON.stringify(q.failed)}; connections ${https.state.connections}/${smtp.state.connections}`,
      );
      assert.deepEqual(failed.map((f) => f.recipient).sort(), [...INSIDE].sort());
      for (const f of failed) {
        assert.equal(f.status, "5.4.4", f.recipient);
        assert.match(f.diagnostic, /^550 5\.4\.4 /, f.recipient);
      }
      assert.equal(https.state.connections, 0, "no HTTPS connection to the inside");
      assert.equal(smtp.state.connections, 0, "no SMTP connection to the inside");
      assert.equal(await q.jobs(), 0, "nothing is left to retry");
      const text = bounceText(failed.filter((f) => !f.recipient.includes("[")));
      for (const leak of ["127.0.0.1", "10.1.2.3", "169.254", "fe80", "::1", "ECONN", String(smtp.port)])
        assert.ok(!text.includes(leak), `bounce mentions ${leak}`);
    } finally {
      await q.close();
    }
  });

  test("outbound_allow_private=true (tests, private networks): the same destinations are contacted", async () => {
    const q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: https.port, outbound_smtp_port: smtp.port },
      tableResolver(ZONE),
    );
    const before = https.state.connections + smtp.state.connections;
    try {
      await q.send(["bob123456@inside.test"]);
      await until("a connection", () =>
        https.state.connections + smtp.state.connections > before ? true : undefined,
      );
      assert.ok(https.state.connections > 0 && smtp.state.connections > 0, "HTTPS first, then SMTP");
    } finally {
      await q.close();
    }
  });

  test("a refused connection bounces (after the queue lifetime) without the socket error", async () => {
    // a port nothing listens on: the connection is refused at once
    const closed = await countingPort();
    await closed.close();
    let now = Date.now();
    const q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: closed.port, outbound_smtp_port: closed.port },
      tableResolver(ZONE),
      { now: () => now },
    );
    try {
      await q.send(["bob123456@inside.test"]);
      await q.queue.idle();
      assert.equal(q.failed.length, 0, "deferred at first");
      now += 10 * 86_400_000; // past max_queue_lifetime
      q.queue.poll();
      const [f] = await until("the bounce", () => q.failed[0]?.failed);
      assert.equal(f?.status, "4.4.7");
      assert.match(f!.diagnostic, /^451 4\.4\.1 mx\.inside\.test: connection refused \(gave up/);
      const text = bounceText(q.failed[0]!.failed);
      for (const leak of ["127.0.0.1", "ECONNREFUSED", `:${closed.port}`])
        assert.ok(!text.includes(leak), `bounce mentions ${leak}`);
      const [job] = await q.store.listJobs("outbound");
      assert.equal(job, undefined);
    } finally {
      await q.close();
    }
  });
});

test("bounce texts drop socket errors that older queue entries may carry", () => {
  const text = bounceText([
    {
      recipient: "x@y.test",
      status: "4.4.7",
      diagnostic: "451 4.4.1 connect ECONNREFUSED 10.0.0.5:25 (gave up)",
    },
    { recipient: "z@y.test", status: "5.0.0", diagnostic: "getaddrinfo ENOTFOUND db.internal" },
  ]);
  assert.ok(!text.includes("10.0.0.5"));
  assert.ok(!text.includes("db.internal"));
  assert.match(text, /451 4\.4\.1 connection failed \(gave up\)/);
  assert.match(text, /554 5\.0\.0 Delivery failed/);
});
