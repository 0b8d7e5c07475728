import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { request, startHttp } from "./harness.ts";
import { decodeSvg } from "./qr-decode.ts";

const PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const PASSWORD = new RegExp(`^[A-Za-z0-9${PUNCT.replace(/[\\\]^-]/g, "\\$&")}]{12}$`);

function parseDclogin(url: string): { addr: string; params: URLSearchParams } {
  const m = /^dclogin:([^?]+)\?(.*)$/.exec(url);
  assert.ok(m, url);
  return { addr: m[1] as string, params: new URLSearchParams(m[2]) };
}

test("POST /new returns fresh credentials that create an account on first login", async () => {
  const h = await startHttp({}, { ports: { imaps: 2993, submissions: 2465 } });
  try {
    const seen = new Set<string>();
    for (const path of ["/new", "/cgi-bin/newemail.py", "/new"]) {
      const r = await request(h.httpsPort, { method: "POST", path });
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "application/json");
      const body = JSON.parse(r.text) as { email: string; password: string; dclogin_url: string };
      assert.deepEqual(Object.keys(body).sort(), ["dclogin_url", "email", "password"]);
      assert.match(body.email, /^[a-z0-9]{9}@_chatrelay\.test$/);
      assert.match(body.password, PASSWORD);
      assert.ok(!seen.has(body.email));
      seen.add(body.email);

      // self-signed mode: a dclogin: link with host, ports and "accept invalid certificates"
      const { addr, params } = parseDclogin(body.dclogin_url);
      assert.equal(addr, body.email);
      assert.equal(params.get("p"), body.password);
      assert.equal(params.get("v"), "1");
      assert.equal(params.get("ic"), "3");
      assert.equal(params.get("ih"), "_chatrelay.test");
      assert.equal(params.get("ip"), "2993");
      assert.equal(params.get("is"), "ssl");
      assert.equal(params.get("sh"), "_chatrelay.test");
      assert.equal(params.get("sp"), "2465");
      assert.equal(params.get("ss"), "ssl");

      // the account does not exist until the first login creates it
      assert.equal(await h.accounts.exists(body.email), false);
      const login = await h.accounts.login(body.email, body.password, "imap", "127.0.0.1");
      assert.deepEqual(login, { ok: true, address: body.email, created: true });
    }
  } finally {
    await h.close();
  }
});

test("IP relays get user@[ip] and host hints even on standard ports", async () => {
  const h = await startHttp(
    { mail_domain: "192.0.2.7", tls_mode: "self" },
    { ports: { imaps: 993, submissions: 465 } },
  );
  try {
    const body = JSON.parse((await request(h.httpsPort, { method: "POST", path: "/new" })).text);
    assert.match(body.email, /^[a-z0-9]{9}@\[192\.0\.2\.7\]$/);
    const { params } = parseDclogin(body.dclogin_url);
    assert.deepEqual(
      [params.get("ih"), params.get("ip"), params.get("sh"), params.get("sp"), params.get("ic")],
      ["192.0.2.7", "993", "192.0.2.7", "465", "3"],
    );
  } finally {
    await h.close();
  }
});

test("a relay named under localhost (npm start) is announced at its listen address, in /new and on the page", async () => {
  // RFC 6761 §6.3: localhost names are loopback, but resolvers need not answer them
  const h = await startHttp(
    { mail_domain: "_chatrelay.localhost" },
    { ports: { imaps: 2993, submissions: 2465 } },
  );
  try {
    const body = JSON.parse((await request(h.httpsPort, { method: "POST", path: "/new" })).text);
    assert.match(body.email, /^[a-z0-9]{9}@_chatrelay\.localhost$/);
    const { params } = parseDclogin(body.dclogin_url);
    assert.deepEqual(
      ["ih", "ip", "is", "sh", "sp", "ss", "ic"].map((k) => params.get(k)),
      ["127.0.0.1", "2993", "ssl", "127.0.0.1", "2465", "ssl", "3"],
    );

    // the page's QR code and button carry such a link, fresh on every visit
    const seen = new Set<string>();
    for (const path of ["/", "/index.html", "/"]) {
      const r = await request(h.httpsPort, { path });
      assert.equal(r.status, 200);
      assert.equal(r.headers["cache-control"], "no-store");
      const href = /<a class="button" href="([^"]+)">/.exec(r.text)?.[1]?.replace(/&amp;/g, "&");
      assert.ok(href, r.text);
      assert.equal(decodeSvg(r.text), href);
      const { addr, params: p } = parseDclogin(href);
      assert.match(addr, /^[a-z0-9]{9}@_chatrelay\.localhost$/);
      assert.deepEqual(
        [p.get("ih"), p.get("ip"), p.get("sh"), p.get("sp"), p.get("ic")],
        ["127.0.0.1", "2993", "127.0.0.1", "2465", "3"],
      );
      assert.ok(!seen.has(addr));
      seen.add(addr);
      const login = await h.accounts.login(addr, p.get("p")!, "imap", "127.0.0.1");
      assert.equal(login.ok, true);
    }
  } finally {
    await h.close();
  }
});

test("named relays on standard ports get a bare dclogin link; ACME relays none", async () => {
  const self = await startHttp({}, { ports: { imaps: 993, submissions: 465 } });
  try {
    const body = JSON.parse((await request(self.httpsPort, { method: "POST", path: "/new" })).text);
    const { params } = parseDclogin(body.dclogin_url);
    assert.deepEqual([...params.keys()].sort(), ["ic", "p", "v"]);
  } finally {
    await self.close();
  }
  const acme = await startHttp({ tls_mode: "acme", username_max_length: 12, password_min_length: 20 });
  try {
    const body = JSON.parse((await request(acme.httpsPort, { method: "POST", path: "/new" })).text);
    assert.deepEqual(Object.keys(body).sort(), ["email", "password"]);
    assert.match(body.email, /^[a-z0-9]{12}@/);
    assert.equal(body.password.length, 23);
  } finally {
    await acme.close();
  }
});

test("GET /new redirects browsers to Delta Chat", async () => {
  const h = await startHttp();
  try {
    for (const path of ["/new", "/cgi-bin/newemail.py"]) {
      const r = await request(h.httpsPort, { path });
      assert.equal(r.status, 301);
      assert.equal(r.headers.location, "dcaccount:https://_chatrelay.test/new");
    }
    const put = await request(h.httpsPort, { method: "PUT", path: "/new" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, "GET, HEAD, POST");
  } finally {
    await h.close();
  }
});

test("/new is limited to 2 requests per second per client, burst 5", async () => {
  const h = await startHttp();
  try {
    const post = () => request(h.httpsPort, { method: "POST", path: "/new" });
    for (let i = 0; i < 5; i++) assert.equal((await post()).status, 200, `request ${i + 1}`);
    const refused = await post();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers["content-type"], "application/json");
    assert.match(JSON.parse(refused.text).reason, /too many requests/i);
    assert.equal(refused.headers["retry-after"], "1");
    h.clock.t += 500;
    assert.equal((await post()).status, 200);
    assert.equal((await post()).status, 429);
  } finally {
    await h.close();
  }
});

test("POST /new says why when account creation is off", async () => {
  const h = await startHttp();
  try {
    writeFileSync(h.config.nocreate_file, "");
    const r = await request(h.httpsPort, { method: "POST", path: "/new" });
    assert.equal(r.status, 503);
    assert.equal(r.headers["content-type"], "application/json");
    assert.deepEqual(Object.keys(JSON.parse(r.text)), ["reason"]);
    assert.match(JSON.parse(r.text).reason, /does not create new addresses/);
  } finally {
    await h.close();
  }
  const busy = await startHttp({ max_load_1m: 0.000001, min_available_memory: 2 ** 50 });
  try {
    const r = await request(busy.httpsPort, { method: "POST", path: "/new" });
    assert.equal(r.status, 503);
    assert.match(JSON.parse(r.text).reason, /too busy/);
  } finally {
    await busy.close();
  }
});
