/** Listeners: minimum TLS version, sessions on an already-open TLS socket (443 + ALPN), certificate reload. */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, test } from "node:test";
import * as tls from "node:tls";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { testCertificate } from "../support/tls.ts";
import { type ImapHarness, startImap } from "./support/harness.ts";
import { RawClient } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap();
});
after(() => h.close());

function connect(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false, ...opts }, () => resolve(s));
    s.once("error", reject);
  });
}

function firstLine(s: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let buf = "";
    s.on("data", (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf("\r\n");
      if (i >= 0) resolve(buf.slice(0, i));
    });
  });
}

test("TLS 1.3 is the default minimum; a TLS 1.2-only client is refused", async () => {
  const s = await connect(h.port);
  assert.equal(s.getProtocol(), "TLSv1.3");
  s.destroy();
  await assert.rejects(connect(h.port, { maxVersion: "TLSv1.2" }));
  const lax = await startImap({ config: { tls_min_version_client: "TLSv1.2" } });
  try {
    const t = await connect(lax.port, { maxVersion: "TLSv1.2" });
    assert.equal(t.getProtocol(), "TLSv1.2");
    assert.match(await firstLine(t), /^\* OK \[CAPABILITY /);
    t.destroy();
  } finally {
    await lax.close();
  }
});

test("handleTlsSocket serves a session on a socket accepted elsewhere (port 443, ALPN imap)", async () => {
  const cert = await testCertificate();
  const front = tls.createServer({ ...cert, ALPNProtocols: ["imap", "smtp", "http/1.1"] }, (socket) => {
    if (socket.alpnProtocol === "imap") h.server.handleTlsSocket(socket);
    else socket.destroy();
  });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  try {
    const port = (front.address() as { port: number }).port;
    const s = await connect(port, { ALPNProtocols: ["imap"] });
    assert.equal(s.alpnProtocol, "imap");
    assert.match(
      await firstLine(s),
      /^\* OK \[CAPABILITY IMAP4rev1 .*AUTH=PLAIN\] _chatrelay\.test chatrelay ready$/,
    );
    s.destroy();
  } finally {
    front.close();
  }
});

test("setCertificate applies to new connections", async () => {
  const fresh = await selfSignedCertificate(["renewed.example"]);
  h.server.setCertificate(fresh.key, fresh.cert);
  const s = await connect(h.port);
  const peer = s.getPeerX509Certificate();
  assert.ok(peer);
  assert.equal(peer.fingerprint256, new X509Certificate(fresh.cert).fingerprint256);
  s.destroy();
  // STARTTLS uses the new certificate too.
  const c = await RawClient.connect(h.plainPort, { tls: false });
  await c.read();
  await c.command("a", "STARTTLS");
  await c.startTls();
  const upgraded = (c.socket as tls.TLSSocket).getPeerX509Certificate();
  assert.equal(upgraded?.fingerprint256, new X509Certificate(fresh.cert).fingerprint256);
  c.close();
});
