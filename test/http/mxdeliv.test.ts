import assert from "node:assert/strict";
import { test } from "node:test";
import { request, startHttp } from "./harness.ts";

test("POST /mxdeliv hands envelope and raw body to delivery as an MX origin", async () => {
  const h = await startHttp();
  try {
    const body = Buffer.from(
      "From: a@remote.example\r\nTo: b@_chatrelay.test\r\n\r\n\u00e9\u0000bytes\r\n",
      "utf8",
    );
    const r = await request(h.httpsPort, {
      method: "POST",
      path: "/mxdeliv",
      headers: {
        "X-Mail-From": "a@remote.example",
        "X-Mail-To": ["b@_chatrelay.test", "<c@_chatrelay.test>"],
      },
      body,
    });
    assert.equal(r.status, 200);
    assert.equal(r.text, "250 2.0.0 OK\n");
    assert.equal(h.accepted.length, 1);
    const [a] = h.accepted;
    assert.deepEqual(a?.envelope, {
      mailFrom: "a@remote.example",
      recipients: ["b@_chatrelay.test", "c@_chatrelay.test"],
    });
    assert.deepEqual(a?.message, body);
    assert.deepEqual(a?.origin, { kind: "mx", peerIp: "127.0.0.1", via: "https" });

    // null sender: no X-MAIL-FROM
    await request(h.httpsPort, {
      method: "POST",
      path: "/mxdeliv",
      headers: { "X-Mail-To": "b@_chatrelay.test" },
      body: "x",
    });
    assert.equal(h.accepted[1]?.envelope.mailFrom, "");
  } finally {
    await h.close();
  }
});

test("/mxdeliv errors: rejection 400, bad headers 400, too large 413, GET 405", async () => {
  const h = await startHttp({ max_message_size: 1000 });
  try {
    h.reply = { code: 523, text: "Encryption Needed: Invalid Unencrypted Mail" };
    const post = (headers: Record<string, string | string[]>, body: string | Buffer = "x") =>
      request(h.httpsPort, { method: "POST", path: "/mxdeliv", headers, body });
    const rejected = await post({ "X-Mail-From": "a@r.example", "X-Mail-To": "b@_chatrelay.test" });
    assert.equal(rejected.status, 400);
    assert.equal(rejected.text, "523 Encryption Needed: Invalid Unencrypted Mail\n");
    assert.equal((await post({ "X-Mail-From": "a@r.example" })).status, 400);
    assert.equal(
      (await post({ "X-Mail-From": "not an address", "X-Mail-To": "b@_chatrelay.test" })).status,
      400,
    );
    assert.equal(h.accepted.length, 1);
    const big = await post({ "X-Mail-To": "b@_chatrelay.test" }, Buffer.alloc(1001, "a"));
    assert.equal(big.status, 413);
    assert.equal(big.text, "552 Message exceeds maximum size\n");
    assert.equal(h.accepted.length, 1);
    const get = await request(h.httpsPort, { path: "/mxdeliv" });
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, "POST");
  } finally {
    await h.close();
  }
});
