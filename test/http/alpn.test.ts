import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { selectAlpn } from "../../src/http/server.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { request } from "./harness.ts";
import { Lines } from "./lines.ts";

let r: TestRelay;
before(async () => {
  r = await startTestRelay();
});
after(async () => {
  await r.close();
});

test("ALPN selection follows the reference relay's nginx rules", () => {
  assert.equal(selectAlpn(["imap"]), "imap");
  assert.equal(selectAlpn(["smtp"]), "smtp");
  assert.equal(selectAlpn(["imap", "smtp"]), "smtp");
  assert.equal(selectAlpn(["h2", "http/1.1"]), "http/1.1");
  assert.equal(selectAlpn(["http/1.1", "imap"]), "imap");
  assert.equal(selectAlpn(["h2"]), undefined);
});

test("ALPN imap on the HTTPS port gets an IMAP session", async () => {
  const c = await Lines.connect(r.httpsPort, { ALPNProtocols: ["imap"] });
  try {
    assert.equal(c.socket.alpnProtocol, "imap");
    assert.match((await c.line()) ?? "", /^\* OK /);
    const address = r.newAddress();
    c.send(`a1 LOGIN ${address} ${r.password}`);
    assert.match((await c.until(/^a1 /)).at(-1) ?? "", /^a1 OK/);
    c.send("a2 SELECT INBOX");
    assert.match((await c.until(/^a2 /)).at(-1) ?? "", /^a2 OK/);
    c.send("a3 LOGOUT");
    assert.match((await c.until(/^a3 /)).at(-1) ?? "", /^a3 OK/);
  } finally {
    c.close();
  }
});

test("ALPN smtp on the HTTPS port gets an SMTP submission session", async () => {
  const c = await Lines.connect(r.httpsPort, { ALPNProtocols: ["smtp"] });
  try {
    assert.equal(c.socket.alpnProtocol, "smtp");
    assert.match((await c.line()) ?? "", /^220 /);
    c.send("EHLO client.example");
    const ehlo = await c.until(/^250 /);
    assert.ok(
      ehlo.some((l) => /^250[- ]AUTH .*PLAIN/.test(l)),
      ehlo.join("\n"),
    );
    const address = r.newAddress();
    c.send(`AUTH PLAIN ${Buffer.from(`\0${address}\0${r.password}`).toString("base64")}`);
    assert.match((await c.line()) ?? "", /^235 /);
    c.send("QUIT");
    assert.match((await c.line()) ?? "", /^221 /);
  } finally {
    c.close();
  }
});

test("no ALPN or http/1.1 gets HTTPS; h2 alone is refused in the handshake", async () => {
  const plain = await request(r.httpsPort, { path: "/robots.txt" });
  assert.equal(plain.status, 200);
  assert.equal(plain.text, "User-agent: *\nDisallow: /\n");

  const c = await Lines.connect(r.httpsPort, { ALPNProtocols: ["h2", "http/1.1"] });
  try {
    assert.equal(c.socket.alpnProtocol, "http/1.1");
    c.send("GET /robots.txt HTTP/1.1");
    c.send("Host: _chatrelay.test");
    c.send("Connection: close");
    c.send("");
    assert.equal(await c.line(), "HTTP/1.1 200 OK");
  } finally {
    c.close();
  }
  await assert.rejects(Lines.connect(r.httpsPort, { ALPNProtocols: ["h2"] }), /no application protocol/);
});

test("IMAP and SMTP over ALPN keep the client ports' TLS 1.3 floor", async () => {
  for (const protocol of ["imap", "smtp"]) {
    // the server may close before or right after its last handshake message
    const c = await Lines.connect(r.httpsPort, { ALPNProtocols: [protocol], maxVersion: "TLSv1.2" }).catch(
      () => undefined,
    );
    try {
      assert.equal(await c?.line(), undefined, `${protocol} over TLS 1.2 is closed`);
    } finally {
      c?.close();
    }
  }
  const web = await Lines.connect(r.httpsPort, { ALPNProtocols: ["http/1.1"], maxVersion: "TLSv1.2" });
  const version = web.socket.getProtocol();
  web.close();
  assert.equal(version, "TLSv1.2");
});

test("onboarding through port 443 alone: POST /new, then IMAP by ALPN with those credentials", async () => {
  const res = await request(r.httpsPort, { method: "POST", path: "/new" });
  assert.equal(res.status, 200);
  const { email, password } = JSON.parse(res.text) as { email: string; password: string };
  assert.equal(await r.relay.parts.accounts.exists(email), false);
  const c = await Lines.connect(r.httpsPort, { ALPNProtocols: ["imap"] });
  try {
    await c.line();
    const quoted = `"${password.replace(/[\\"]/g, "\\$&")}"`;
    c.send(`a1 LOGIN ${email} ${quoted}`);
    assert.match((await c.until(/^a1 /)).at(-1) ?? "", /^a1 OK/);
  } finally {
    c.close();
  }
  assert.equal(await r.relay.parts.accounts.exists(email), true);
});
