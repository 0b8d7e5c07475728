import assert from "node:assert/strict";
import { test } from "node:test";
import { XMLParser } from "fast-xml-parser";
import { defaultConfig } from "../../src/config/schema.ts";
import { autoconfigXml } from "../../src/http/discovery.ts";
import { request, startHttp } from "./harness.ts";

interface Server {
  "@_type": string;
  hostname: string;
  port: number;
  socketType: string;
  authentication: string;
  username: string;
}

function parseAutoconfig(xml: string) {
  const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name.endsWith("Server") }).parse(
    xml,
  );
  const provider = doc.clientConfig.emailProvider;
  assert.equal(doc.clientConfig["@_version"], "1.1");
  return {
    provider,
    incoming: provider.incomingServer as Server[],
    outgoing: provider.outgoingServer as Server[],
  };
}

const brief = (list: Server[]) => list.map((s) => [s["@_type"], s.port, s.socketType]);

test("autoconfig lists IMAP 993/143/443 and SMTP 465/587/443 on the default ports", () => {
  const { provider, incoming, outgoing } = parseAutoconfig(autoconfigXml(defaultConfig("chat.example.org")));
  assert.equal(provider.domain, "chat.example.org");
  assert.deepEqual(brief(incoming), [
    ["imap", 993, "SSL"],
    ["imap", 143, "STARTTLS"],
    ["imap", 443, "SSL"],
  ]);
  assert.deepEqual(brief(outgoing), [
    ["smtp", 465, "SSL"],
    ["smtp", 587, "STARTTLS"],
    ["smtp", 443, "SSL"],
  ]);
  for (const s of [...incoming, ...outgoing]) {
    assert.equal(s.hostname, "chat.example.org");
    assert.equal(s.username, "%EMAILADDRESS%");
    assert.equal(s.authentication, "password-cleartext");
  }
  // a disabled listener is not advertised
  const off = parseAutoconfig(
    autoconfigXml({ ...defaultConfig("chat.example.org"), imap_port: -1, submission_port: -1 }),
  );
  assert.deepEqual(brief(off.incoming), [
    ["imap", 993, "SSL"],
    ["imap", 443, "SSL"],
  ]);
  assert.deepEqual(brief(off.outgoing), [
    ["smtp", 465, "SSL"],
    ["smtp", 443, "SSL"],
  ]);
});

test("autoconfig over HTTPS uses the live ports", async () => {
  const h = await startHttp(
    {},
    { ports: { imaps: 10993, imap: 10143, submissions: 10465, submission: 10587 } },
  );
  try {
    for (const path of [
      "/.well-known/autoconfig/mail/config-v1.1.xml",
      "/mail/config-v1.1.xml?emailaddress=a@b",
    ]) {
      const r = await request(h.httpsPort, { path });
      assert.equal(r.status, 200);
      assert.match(String(r.headers["content-type"]), /^application\/xml/);
      const { incoming, outgoing } = parseAutoconfig(r.text);
      assert.deepEqual(
        incoming.map((s) => s.port),
        [10993, 10143, h.httpsPort],
      );
      assert.deepEqual(
        outgoing.map((s) => s.port),
        [10465, 10587, h.httpsPort],
      );
      assert.equal(incoming[0]?.hostname, "_chatrelay.test");
    }
  } finally {
    await h.close();
  }
});

test("MTA-STS policy on mta-sts.<domain>", async () => {
  const h = await startHttp();
  try {
    const r = await request(h.httpsPort, {
      path: "/.well-known/mta-sts.txt",
      host: "mta-sts._chatrelay.test",
    });
    assert.equal(r.status, 200);
    assert.match(String(r.headers["content-type"]), /^text\/plain/);
    assert.equal(r.text, "version: STSv1\nmode: enforce\nmx: _chatrelay.test\nmax_age: 2419200\n");
    const other = await request(h.httpsPort, { path: "/", host: "mta-sts._chatrelay.test" });
    assert.equal(other.status, 404);
    const bare = await request(h.httpsPort, { path: "/.well-known/mta-sts.txt" });
    assert.equal(bare.status, 404);
  } finally {
    await h.close();
  }
});

test("www.<domain> redirects to the bare domain, path and query kept", async () => {
  const h = await startHttp();
  try {
    const r = await request(h.httpsPort, {
      path: "/info.html?x=1",
      host: `www._chatrelay.test:${h.httpsPort}`,
    });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, "https://_chatrelay.test/info.html?x=1");
  } finally {
    await h.close();
  }
});

test("robots.txt disallows crawling", async () => {
  const h = await startHttp();
  try {
    const r = await request(h.httpsPort, { path: "/robots.txt" });
    assert.equal(r.status, 200);
    assert.equal(r.text, "User-agent: *\nDisallow: /\n");
  } finally {
    await h.close();
  }
});
