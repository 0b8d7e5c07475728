/**
 * Outbound HTTPS /mxdeliv counts only a recognisable chatmail answer (see
 * src/delivery/outbound/https-channel.ts); a web server that answers anything
 * else must not swallow the message: it goes out over SMTP instead.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { mxdelivReply } from "../../src/delivery/outbound/https-channel.ts";
import { until } from "../support/relay.ts";
import {
  fakeHttps,
  MESSAGE,
  type Records,
  smtpReceiver,
  startQueue,
  tableResolver,
} from "./outbound-harness.ts";

test("what counts as an /mxdeliv answer (filtermail src/http_server.rs)", () => {
  const cases: Array<[number, string | undefined, string, number | undefined]> = [
    [200, undefined, "250 OK", 250], // filtermail: no Content-Type
    [200, "text/plain; charset=utf-8", "250 2.0.0 OK: queued\n", 250], // ours
    [200, undefined, "250", 250],
    [400, undefined, "523 Encryption Needed: Invalid Unencrypted Mail", 523],
    [400, "text/plain", "451 Local error\r\n", 451],
    [413, undefined, "552 Message exceeds maximum size", 552],
    [200, "text/html", "250 OK", undefined],
    [200, "text/html; charset=utf-8", "<!doctype html><html><body>Welcome</body></html>", undefined],
    [200, undefined, "<html>250 OK</html>", undefined],
    [200, "text/plain", "OK", undefined],
    [200, "text/plain", "", undefined],
    [200, "text/plain", "2500 OK", undefined],
    [200, "text/plain", "250OK", undefined],
    [200, "text/plain", "200 OK", undefined],
    [200, "text/plain", "550 rejected", undefined],
    [200, "application/json", '{"status":"250 OK"}', undefined],
    [200, "text/plain", `250 OK\n${"x".repeat(5000)}`, undefined],
    [201, "text/plain", "250 OK", undefined],
    [204, undefined, "", undefined],
    [302, "text/plain", "250 OK", undefined],
    [400, "text/plain", "250 OK", undefined],
    [404, "text/plain", "550 5.1.1 no such user", undefined],
    [405, undefined, "Method Not Allowed", undefined],
    [500, "text/plain", "554 error", undefined],
  ];
  for (const [status, type, body, code] of cases)
    assert.equal(
      mxdelivReply(status, type, Buffer.from(body))?.code,
      code,
      `${status} ${type} ${body.slice(0, 40)}`,
    );
});

describe("outbound queue against web servers that are not /mxdeliv", () => {
  const dest = "bob123456@_dest.test";
  let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
  let zone: Record<string, Records>;

  before(async () => {
    smtp = await smtpReceiver();
    zone = {
      "_dest.test": { MX: [{ exchange: "mx._dest.test", priority: 10 }] },
      "mx._dest.test": { A: ["127.0.0.1"] },
    };
  });
  after(() => smtp.close());

  /** Sends one message while the remote HTTPS server answers with `answer`; returns how it went. */
  async function deliverWith(answer: (res: ServerResponse) => void) {
    const web = await fakeHttps((_req, res) => answer(res));
    const q = await startQueue(
      { outbound_https_port: web.port, outbound_smtp_port: smtp.port },
      tableResolver(zone),
    );
    const before = smtp.received.length;
    try {
      await q.send([dest]);
      await until(
        "the job to leave the queue",
        async () => ((await q.jobs()) === 0 ? true : undefined),
        () => `smtp got ${smtp.received.length - before}, web ${web.state.requests} request(s)`,
      );
      return { viaSmtp: smtp.received.length - before, webRequests: web.state.requests, failed: q.failed };
    } finally {
      await q.close();
      await web.close();
    }
  }

  const notMxdeliv: Array<[string, (res: ServerResponse) => void]> = [
    [
      "200 with an HTML page",
      (res) => res.writeHead(200, { "Content-Type": "text/html" }).end("<html>OK</html>"),
    ],
    ["200 with a plain OK", (res) => res.writeHead(200, { "Content-Type": "text/plain" }).end("OK")],
    ["200 with no body", (res) => res.writeHead(200).end()],
    ["404", (res) => res.writeHead(404, { "Content-Type": "text/html" }).end("<h1>Not Found</h1>")],
    ["a redirect", (res) => res.writeHead(302, { Location: "https://example.org/" }).end()],
    ["405", (res) => res.writeHead(405).end("Method Not Allowed")],
  ];
  for (const [name, answer] of notMxdeliv)
    test(`${name}: the message goes out over SMTP`, async () => {
      const r = await deliverWith(answer);
      assert.ok(r.webRequests >= 1, "the HTTPS channel was tried first");
      assert.equal(r.viaSmtp, 1, "delivered over SMTP");
      assert.equal(r.failed.length, 0, "no bounce");
      const got = smtp.received.at(-1)!;
      assert.deepEqual(got.to, [dest]);
      assert.match(got.data, /^Message-ID: <m1@_origin\.test>/m);
    });

  test("a recognised 250 is delivered over HTTPS, SMTP is not used", async () => {
    const r = await deliverWith((res) => res.writeHead(200).end("250 OK"));
    assert.equal(r.webRequests, 1);
    assert.equal(r.viaSmtp, 0);
    assert.equal(r.failed.length, 0);
  });

  test("a recognised 5xx rejection is permanent: bounced, not retried over SMTP", async () => {
    const r = await deliverWith((res) =>
      res.writeHead(400).end("523 Encryption Needed: Invalid Unencrypted Mail"),
    );
    assert.equal(r.viaSmtp, 0);
    assert.equal(r.failed.length, 1);
    const [f] = r.failed[0]!.failed;
    assert.equal(f?.recipient, dest);
    assert.equal(f?.diagnostic, "523 Encryption Needed: Invalid Unencrypted Mail");
  });

  test("a recognised 4xx answer falls back to SMTP", async () => {
    const r = await deliverWith((res) => res.writeHead(400).end("451 Local error"));
    assert.equal(r.viaSmtp, 1);
    assert.equal(r.failed.length, 0);
  });

  test("the fixture message is what arrives", () => {
    assert.ok(
      smtp.received.some((m) => m.data.replace(/\r\n$/, "") === MESSAGE.toString().replace(/\r\n$/, "")),
    );
  });
});
