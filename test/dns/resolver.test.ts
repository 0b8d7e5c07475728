import assert from "node:assert/strict";
import dns from "node:dns";
import { after, before, test } from "node:test";
import { createResolver, DnsError } from "../../src/dns/resolver.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";

let server: DnsServer;

before(async () => {
  server = await startDnsServer({
    "example.org": {
      A: ["192.0.2.1"],
      AAAA: ["2001:db8::1"],
      MX: [
        { exchange: "mx2.example.org", priority: 20 },
        { exchange: "mx1.example.org", priority: 10 },
      ],
      TXT: ["v=spf1 a ~all"],
    },
    "long.example.org": { TXT: ["x".repeat(600)] },
    "chunks.example.org": { TXT: [["abc", "def"], ["second"]] },
    "www.example.org": { CNAME: "example.org" },
    "dangling.example.org": { CNAME: "missing.example.org" },
    // Several records: larger than any UDP payload a client offers, so it is answered over TCP.
    "big.example.org": { TXT: Array.from({ length: 8 }, (_, i) => `${i}`.repeat(400)) },
  });
});

after(async () => {
  await server.close();
});

async function rejectsWithKind(promise: Promise<unknown>, kind: string): Promise<DnsError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DnsError, `expected DnsError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    return err;
  }
  assert.fail(`expected a ${kind} DnsError`);
}

test("resolves A, AAAA, MX and TXT from the given server", async () => {
  const r = createResolver([server.address]);
  assert.deepEqual(await r.resolve4("example.org"), ["192.0.2.1"]);
  assert.deepEqual(await r.resolve6("example.org"), ["2001:db8::1"]);
  const mx = await r.resolveMx("example.org");
  assert.deepEqual(
    mx.sort((a, b) => a.priority - b.priority),
    [
      { exchange: "mx1.example.org", priority: 10 },
      { exchange: "mx2.example.org", priority: 20 },
    ],
  );
  assert.deepEqual(await r.resolveTxt("example.org"), [["v=spf1 a ~all"]]);
});

test("names are case-insensitive", async () => {
  const r = createResolver([server.address]);
  assert.deepEqual(await r.resolve4("EXAMPLE.Org"), ["192.0.2.1"]);
});

test("TXT records keep their character-strings", async () => {
  const r = createResolver([server.address]);
  const long = await r.resolveTxt("long.example.org");
  assert.equal(long.length, 1);
  assert.deepEqual(
    long[0]?.map((s) => s.length),
    [255, 255, 90],
  );
  assert.equal(long[0]?.join(""), "x".repeat(600));
  const chunks = await r.resolveTxt("chunks.example.org");
  assert.deepEqual(chunks.map((rec) => rec.join("|")).sort(), ["abc|def", "second"]);
});

test("a truncated UDP answer is retried over TCP", async () => {
  const r = createResolver([server.address]);
  const records = await r.resolveTxt("big.example.org");
  assert.equal(records.length, 8);
  assert.ok(server.queries.some((q) => q.name === "big.example.org" && q.transport === "tcp"));
});

test("CNAME is followed", async () => {
  const r = createResolver([server.address]);
  assert.deepEqual(await r.resolve4("www.example.org"), ["192.0.2.1"]);
});

test("unknown name is nxdomain", async () => {
  const r = createResolver([server.address]);
  const err = await rejectsWithKind(r.resolveMx("nope.example.org"), "nxdomain");
  assert.equal(err.code, "ENOTFOUND");
  assert.equal(err.hostname, "nope.example.org");
  assert.equal(err.rrtype, "MX");
  await rejectsWithKind(r.resolve4("dangling.example.org"), "nxdomain");
});

test("known name without the type is nodata", async () => {
  const r = createResolver([server.address]);
  const err = await rejectsWithKind(r.resolveMx("long.example.org"), "nodata");
  assert.equal(err.code, "ENODATA");
  await rejectsWithKind(r.resolve6("chunks.example.org"), "nodata");
});

test("SERVFAIL is temporary", async () => {
  server.zone.set("broken.example.org", { A: ["192.0.2.9"] });
  server.servfail.add("broken.example.org");
  try {
    const r = createResolver([server.address]);
    await rejectsWithKind(r.resolve4("broken.example.org"), "temporary");
  } finally {
    server.servfail.delete("broken.example.org");
  }
  assert.deepEqual(await createResolver([server.address]).resolve4("broken.example.org"), ["192.0.2.9"]);
});

test("no answer within the timeout is temporary", async () => {
  server.drop.add("silent.example.org");
  try {
    const r = createResolver([server.address], { timeoutMs: 300 });
    await rejectsWithKind(r.resolveTxt("silent.example.org"), "temporary");
  } finally {
    server.drop.delete("silent.example.org");
  }
});

test("zone changes apply to the next query", async () => {
  const r = createResolver([server.address]);
  await rejectsWithKind(r.resolve4("later.example.org"), "nxdomain");
  server.zone.set("later.example.org", { A: ["192.0.2.7"] });
  assert.deepEqual(await r.resolve4("later.example.org"), ["192.0.2.7"]);
});

test("a refused connection is temporary", async () => {
  // A port that is closed for TCP and UDP alike: bind the fake server, then close it.
  const closed = await startDnsServer({});
  await closed.close();
  const r = createResolver([closed.address], { timeoutMs: 2000 });
  await rejectsWithKind(r.resolve4("example.org"), "temporary");
});

test("malformed server address is a TypeError", () => {
  assert.throws(() => createResolver(["not a server"]), TypeError);
});

test("empty server list uses the servers of Node's default resolver", async () => {
  const system = dns.getServers();
  dns.setServers([server.address]);
  try {
    const r = createResolver([], { timeoutMs: 2000 });
    assert.deepEqual(await r.resolve4("example.org"), ["192.0.2.1"]);
    assert.deepEqual(await r.resolveTxt("example.org"), [["v=spf1 a ~all"]]);
  } finally {
    dns.setServers(system);
  }
});
