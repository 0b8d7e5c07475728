import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { request, startHttp } from "./harness.ts";

test("port 80 redirects to https, path and query kept", async () => {
  const h = await startHttp();
  try {
    const r = await request(h.httpPort, { plain: true, path: "/info.html?a=b", host: "_chatrelay.test" });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `https://_chatrelay.test:${h.httpsPort}/info.html?a=b`);
    const post = await request(h.httpPort, {
      plain: true,
      method: "POST",
      path: "/new",
      host: "www._chatrelay.test:80",
    });
    assert.equal(post.status, 301);
    assert.equal(post.headers.location, `https://www._chatrelay.test:${h.httpsPort}/new`);
    // no usable Host: the relay's own name
    const bad = await request(h.httpPort, { plain: true, path: "/", host: "evil\\host" });
    assert.equal(bad.headers.location, `https://_chatrelay.test:${h.httpsPort}/`);
  } finally {
    await h.close();
  }
});

test("port 80 redirects to the bare host on the standard https port", async () => {
  const h = await startHttp({}, { ports: { https: 443 } });
  try {
    const r = await request(h.httpPort, { plain: true, path: "/", host: "_chatrelay.test" });
    assert.equal(r.headers.location, "https://_chatrelay.test/");
  } finally {
    await h.close();
  }
});

test("ACME HTTP-01 challenges from memory and from data_dir/acme-challenge", async () => {
  const h = await startHttp();
  try {
    h.service.acme.set("tok_en-1", "tok_en-1.thumbprint");
    mkdirSync(join(h.config.data_dir, "acme-challenge"));
    writeFileSync(join(h.config.data_dir, "acme-challenge", "filetoken"), "filetoken.thumb\n");
    const mem = await request(h.httpPort, { plain: true, path: "/.well-known/acme-challenge/tok_en-1" });
    assert.equal(mem.status, 200);
    assert.equal(mem.text, "tok_en-1.thumbprint");
    const file = await request(h.httpPort, { plain: true, path: "/.well-known/acme-challenge/filetoken" });
    assert.equal(file.text, "filetoken.thumb");
    // the validation may follow a redirect to https
    const https = await request(h.httpsPort, { path: "/.well-known/acme-challenge/tok_en-1" });
    assert.equal(https.text, "tok_en-1.thumbprint");
    for (const path of [
      "/.well-known/acme-challenge/unknown",
      "/.well-known/acme-challenge/..%2f..%2fetc",
      "/.well-known/acme-challenge/",
    ]) {
      assert.equal((await request(h.httpPort, { plain: true, path })).status, 404, path);
    }
    h.service.acme.delete("tok_en-1");
    assert.equal(
      (await request(h.httpPort, { plain: true, path: "/.well-known/acme-challenge/tok_en-1" })).status,
      404,
    );
    assert.throws(() => h.service.acme.set("../x", "y"));
  } finally {
    await h.close();
  }
});
