import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { request, startHttp } from "./harness.ts";
import { decodeSvg } from "./qr-decode.ts";
import { jsqrDecodeSvg } from "./qr-jsqr.ts";

test("the index page carries the DCACCOUNT QR code as inline SVG and a link", async () => {
  const h = await startHttp();
  try {
    for (const path of ["/", "/index.html"]) {
      const r = await request(h.httpsPort, { path });
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
      assert.match(String(r.headers["content-security-policy"]), /default-src 'none'/);
      assert.equal(decodeSvg(r.text), "DCACCOUNT:https://_chatrelay.test/new");
      assert.equal(jsqrDecodeSvg(r.text), "DCACCOUNT:https://_chatrelay.test/new");
      assert.match(r.text, /<a class="button" href="DCACCOUNT:https:\/\/_chatrelay.test\/new">/);
      assert.match(r.text, /<html lang="en">/);
      assert.match(r.text, /aria-label="QR code: DCACCOUNT:https:\/\/_chatrelay.test\/new"/);
      // no external assets: nothing is loaded from anywhere
      assert.doesNotMatch(r.text, /<(script|link|img|iframe)\b|src=/);
    }
    const first = await request(h.httpsPort, { path: "/" });
    const again = await request(h.httpsPort, {
      path: "/",
      headers: { "If-None-Match": String(first.headers.etag) },
    });
    assert.equal(again.status, 304);
    const head = await request(h.httpsPort, { path: "/", method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers["content-length"]), first.body.length);
    assert.equal((await request(h.httpsPort, { path: "/", method: "POST" })).status, 405);
    assert.equal((await request(h.httpsPort, { path: "/nope.html" })).status, 404);
  } finally {
    await h.close();
  }
});

test("the info page shows limits and retention from the config", async () => {
  const h = await startHttp({
    max_message_size: 31457280,
    max_mailbox_size: 2 ** 30,
    delete_mails_after: 14,
  });
  try {
    const r = await request(h.httpsPort, { path: "/info.html" });
    assert.equal(r.status, 200);
    assert.match(r.text, /Largest message<\/th><td>30 MiB/);
    assert.match(r.text, /Storage per address<\/th><td>1 GiB/);
    assert.match(r.text, /Messages are deleted after<\/th><td>14 days/);
    assert.match(r.text, /Addresses without a login are deleted after<\/th><td>90 days/);
    assert.match(r.text, /60 messages per minute/);
  } finally {
    await h.close();
  }
});

test("the privacy page is filled from the privacy_* options, escaped", async () => {
  const h = await startHttp({
    privacy_mail: "privacy@example.org",
    privacy_postal: "Example e.V.\nMain street 1 <b>\n12345 Town",
    privacy_pdo: "",
    privacy_supervisor: "Authority & Co",
  });
  try {
    const r = await request(h.httpsPort, { path: "/privacy.html" });
    assert.equal(r.status, 200);
    assert.match(r.text, /<a href="mailto:privacy@example.org">privacy@example.org<\/a>/);
    assert.match(r.text, /<address>Example e.V.\nMain street 1 &lt;b&gt;\n12345 Town<\/address>/);
    assert.match(r.text, /Authority &amp; Co/);
    assert.doesNotMatch(r.text, /Data protection officer/);
  } finally {
    await h.close();
  }
  const bare = await startHttp();
  try {
    const r = await request(bare.httpsPort, { path: "/privacy.html" });
    assert.match(r.text, /has not published contact details/);
  } finally {
    await bare.close();
  }
});

test("www_folder serves the operator's pages, never outside the folder", async () => {
  const root = mkdtempSync(join(tmpdir(), "chatrelay-www-"));
  const site = join(root, "site");
  mkdirSync(join(site, "docs"), { recursive: true });
  mkdirSync(join(site, ".git"));
  writeFileSync(join(site, "index.html"), "<h1>Our relay</h1>");
  writeFileSync(join(site, "style.css"), "body{}");
  writeFileSync(join(site, "docs", "index.html"), "docs");
  writeFileSync(join(site, ".git", "config"), "secret");
  writeFileSync(join(site, ".env"), "secret");
  writeFileSync(join(root, "secret.txt"), "secret");
  symlinkSync(join(root, "secret.txt"), join(site, "link.txt"));
  const h = await startHttp({ www_folder: site });
  try {
    const index = await request(h.httpsPort, { path: "/" });
    assert.equal(index.text, "<h1>Our relay</h1>");
    assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(
      (await request(h.httpsPort, { path: "/style.css" })).headers["content-type"],
      "text/css; charset=utf-8",
    );
    assert.equal((await request(h.httpsPort, { path: "/docs/" })).text, "docs");
    const folder = await request(h.httpsPort, { path: "/docs?x" });
    assert.equal(folder.status, 301);
    assert.equal(folder.headers.location, "/docs/");
    // built-in pages fill the gaps
    assert.match((await request(h.httpsPort, { path: "/info.html" })).text, /Limits and retention/);
    for (const path of [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/docs/%2e%2e/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/.git/config",
      "/.env",
      "/link.txt",
      "/docs%00.html",
      "/%5c..%5csecret.txt",
    ]) {
      const r = await request(h.httpsPort, { path });
      assert.ok(r.status === 404 || r.status === 400, `${path} -> ${r.status}`);
      assert.doesNotMatch(r.text, /secret/, path);
    }
  } finally {
    await h.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('www_folder "disabled" switches the website off, not the endpoints', async () => {
  const h = await startHttp({ www_folder: "disabled" });
  try {
    assert.equal((await request(h.httpsPort, { path: "/" })).status, 404);
    assert.equal((await request(h.httpsPort, { path: "/info.html" })).status, 404);
    assert.equal((await request(h.httpsPort, { path: "/new", method: "POST" })).status, 200);
    assert.equal(
      (await request(h.httpsPort, { path: "/.well-known/autoconfig/mail/config-v1.1.xml" })).status,
      200,
    );
  } finally {
    await h.close();
  }
});
