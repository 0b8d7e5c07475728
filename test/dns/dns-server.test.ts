import assert from "node:assert/strict";
import dgram from "node:dgram";
import { createRequire } from "node:module";
import net from "node:net";
import { test } from "node:test";
import { startDnsServer } from "../support/dns-server.ts";

interface RawPacket {
  id: number;
  type: string;
  flags: number;
  flag_tc: boolean;
  flag_aa: boolean;
  rcode: string;
  answers: { name: string; type: string; data: unknown }[];
}

const dnsPacket = createRequire(import.meta.url)("dns-packet") as {
  encode(p: object): Buffer;
  decode(b: Buffer): RawPacket;
};

function query(name: string, type: string, id = 42, additionals: object[] = []): Buffer {
  return dnsPacket.encode({
    id,
    type: "query",
    flags: 1 << 8,
    questions: [{ name, type, class: "IN" }],
    additionals,
  });
}

async function udpAsk(port: number, msg: Buffer): Promise<RawPacket> {
  const socket = dgram.createSocket("udp4");
  try {
    return await new Promise<RawPacket>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("message", (buf) => resolve(dnsPacket.decode(buf)));
      socket.send(msg, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

async function tcpAsk(port: number, msg: Buffer): Promise<RawPacket> {
  const conn = net.connect(port, "127.0.0.1");
  try {
    return await new Promise<RawPacket>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      conn.once("error", reject);
      conn.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        }
      });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(msg.length);
      // Split the write to exercise reassembly.
      conn.write(Buffer.concat([prefix, msg.subarray(0, 3)]));
      setImmediate(() => conn.write(msg.subarray(3)));
    });
  } finally {
    conn.destroy();
  }
}

test("answers over UDP with the query id, authoritative, NOERROR", async () => {
  const server = await startDnsServer({ "A.Example.org.": { A: ["192.0.2.1"] } });
  try {
    assert.equal(server.address, `127.0.0.1:${server.port}`);
    assert.ok(server.zone.has("a.example.org"), "names are stored in lower case without trailing dot");
    const res = await udpAsk(server.port, query("a.example.org", "A", 1234));
    assert.equal(res.id, 1234);
    assert.equal(res.type, "response");
    assert.equal(res.flag_aa, true);
    assert.equal(res.rcode, "NOERROR");
    assert.deepEqual(
      res.answers.map((a) => [a.name, a.type, a.data]),
      [["a.example.org", "A", "192.0.2.1"]],
    );
    assert.deepEqual(server.queries, [{ name: "a.example.org", type: "A", transport: "udp" }]);
  } finally {
    await server.close();
  }
});

test("NXDOMAIN, NODATA and SERVFAIL", async () => {
  const server = await startDnsServer(new Map([["a.example.org", { A: ["192.0.2.1"] }]]));
  try {
    assert.equal((await udpAsk(server.port, query("b.example.org", "A"))).rcode, "NXDOMAIN");
    const nodata = await udpAsk(server.port, query("a.example.org", "MX"));
    assert.equal(nodata.rcode, "NOERROR");
    assert.equal(nodata.answers.length, 0);
    server.servfail.add("a.example.org");
    assert.equal((await udpAsk(server.port, query("a.example.org", "A"))).rcode, "SERVFAIL");
  } finally {
    await server.close();
  }
});

test("large answers are truncated over UDP and complete over TCP", async () => {
  const txt = Array.from({ length: 4 }, (_, i) => `${i}`.repeat(300));
  const server = await startDnsServer({ "big.example.org": { TXT: txt } });
  try {
    const udp = await udpAsk(server.port, query("big.example.org", "TXT"));
    assert.equal(udp.flag_tc, true);
    assert.equal(udp.answers.length, 0);
    // EDNS0 (RFC 6891): a larger advertised payload size lifts the limit.
    const edns = await udpAsk(
      server.port,
      query("big.example.org", "TXT", 7, [{ type: "OPT", name: ".", udpPayloadSize: 4096 }]),
    );
    assert.equal(edns.flag_tc, false);
    assert.equal(edns.answers.length, 4);
    const tcp = await tcpAsk(server.port, query("big.example.org", "TXT"));
    assert.equal(tcp.flag_tc, false);
    assert.equal(tcp.answers.length, 4);
    assert.equal(server.queries.at(-1)?.transport, "tcp");
  } finally {
    await server.close();
  }
});

test("garbage datagrams are ignored and the server keeps answering", async () => {
  const server = await startDnsServer({ "a.example.org": { A: ["192.0.2.1"] } });
  try {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) =>
      socket.send(Buffer.from("nonsense"), server.port, "127.0.0.1", () => resolve()),
    );
    socket.close();
    assert.equal((await udpAsk(server.port, query("a.example.org", "A"))).rcode, "NOERROR");
  } finally {
    await server.close();
  }
});
