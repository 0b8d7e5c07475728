import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { plausibleAddress } from "../../src/http/mxdeliv.ts";
import { addressKey } from "../../src/net/address-key.ts";
import { BodyBudget } from "../../src/net/body-budget.ts";
import { ConnectionLimiter, limitConnections } from "../../src/net/connection-limit.ts";
import { until } from "../support/until.ts";

test("addressKey: IPv4 as is, IPv6 by /64, IPv4-mapped as IPv4", () => {
  assert.equal(addressKey("192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("2001:db8:1:2:3:4:5:6"), addressKey("2001:DB8:1:2::99"));
  assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
  assert.equal(addressKey("2001:db8::1"), addressKey("2001:0db8:0000:0000:ffff::1"));
  assert.equal(addressKey(undefined), "");
});

test("ConnectionLimiter counts per key and never below zero", () => {
  const l = new ConnectionLimiter(2);
  assert.ok(l.acquire("2001:db8::1"));
  assert.ok(l.acquire("2001:db8::2"));
  assert.equal(l.acquire("2001:db8::3"), false, "same /64");
  assert.ok(l.acquire("192.0.2.1"));
  l.release("2001:db8::1");
  l.release("2001:db8::1");
  l.release("2001:db8::1");
  assert.equal(l.count("2001:db8::9"), 0);
  assert.equal(l.size, 1);
});

test("limitConnections: the cap holds on a real listener, refused sockets never reach the handler, and closing frees the slot exactly once", async () => {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  const limiter = new ConnectionLimiter(3);
  limitConnections(server, limiter, "NO\r\n");
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const open = async (localAddress: string) => {
    const c = connect({ port, host: "127.0.0.1", localAddress });
    await once(c, "connect");
    return c;
  };
  try {
    const clients = [];
    for (let i = 0; i < 8; i++) clients.push(await open("127.0.0.2"));
    const other = await open("127.0.0.3");
    // the refused ones heard the refusal and were closed
    const refused = clients.slice(3);
    for (const c of refused) {
      const chunks: Buffer[] = [];
      c.on("data", (d: Buffer) => chunks.push(d));
      if (!c.closed) await once(c, "close");
      assert.equal(Buffer.concat(chunks).toString(), "NO\r\n");
    }
    // accepted in order: once the last one (127.0.0.3) is in, every earlier one was decided
    await until("127.0.0.3 accepted", () => accepted.find((s) => s.remoteAddress === "127.0.0.3"));
    assert.equal(accepted.length, 4, "three from 127.0.0.2 and one from 127.0.0.3");
    assert.equal(limiter.count("127.0.0.2"), 3);
    // refused sockets closing did not free anybody's slot
    assert.equal(limiter.count("127.0.0.2"), 3);
    for (const c of clients.slice(0, 3)) c.destroy();
    for (const s of accepted.slice(0, 3)) if (!s.closed) await once(s, "close");
    assert.equal(limiter.count("127.0.0.2"), 0);
    const again = [];
    for (let i = 0; i < 3; i++) again.push(await open("127.0.0.2"));
    await until("three more accepted", () => (accepted.length >= 7 ? true : undefined));
    assert.equal(accepted.length, 7);
    for (const c of [...again, other]) c.destroy();
  } finally {
    for (const s of accepted) s.destroy();
    server.close();
  }
});

test("BodyBudget: a global total and a per-address share; release gives everything back once", () => {
  const b = new BodyBudget(100, 20);
  assert.equal(b.perAddress, 25);
  const r1 = b.open("192.0.2.1");
  assert.ok(r1.add(25));
  assert.equal(r1.add(1), false, "per-address share");
  const r2 = b.open("192.0.2.2");
  const r3 = b.open("192.0.2.3");
  const r4 = b.open("192.0.2.4");
  assert.ok(r2.add(25) && r3.add(25) && r4.add(25));
  const r5 = b.open("192.0.2.5");
  assert.equal(r5.add(1), false, "total");
  r1.release();
  r1.release();
  assert.equal(b.inUse, 75);
  assert.ok(r5.add(20));
  for (const r of [r2, r3, r4, r5]) r.release();
  assert.equal(b.inUse, 0);
  // a message may always be as large as max_message_size, however small the quarter
  assert.equal(new BodyBudget(100, 60).perAddress, 60);
});

test("plausibleAddress is linear and refuses white space, brackets and a missing side", () => {
  assert.ok(plausibleAddress("a@b.example"));
  assert.ok(plausibleAddress("a@[192.0.2.1]"));
  for (const bad of ["", "@b", "a@", "a b@c", "<a@b>", "a@b\r\n", "a".repeat(300) + "@b"])
    assert.equal(plausibleAddress(bad), false, JSON.stringify(bad));
  // 64 KiB of "@" (a quadratic regular expression took seconds on this)
  // (CPU time, not wall time: a busy machine must not fail it)
  const t0 = process.cpuUsage();
  for (let i = 0; i < 100; i++) plausibleAddress("@".repeat(250));
  assert.equal(plausibleAddress("@".repeat(65536)), false);
  const used = process.cpuUsage(t0);
  assert.ok((used.user + used.system) / 1000 < 500);
});
