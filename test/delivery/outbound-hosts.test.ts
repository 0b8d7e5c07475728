/**
 * Which host and which channel the outbound queue uses: the next MX host when
 * the first cannot be reached (RFC 5321 §5.1), and the 30-minute "SMTP only"
 * memory after a host answered /mxdeliv with something that is no /mxdeliv
 * reply (docs/reference-relay.md §3.5). Real servers on loopback, the queue on
 * a clock the test moves.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { afterEach, describe, test } from "node:test";
import { commonFreePort } from "../support/ports.ts";
import { fakeHttps, startQueue, type TestQueue, tableResolver } from "./outbound-harness.ts";
import { type ScriptedSmtp, scriptedSmtp } from "./scripted-smtp.ts";

const T0 = Date.UTC(2031, 0, 1);
const MIN = 60_000;

describe("outbound queue: hosts and channels", () => {
  const closers: Array<() => Promise<unknown>> = [];
  let q: TestQueue | undefined;
  let t = T0;

  afterEach(async () => {
    await q?.close();
    q = undefined;
    for (const c of closers.splice(0).reverse()) await c();
  });

  test("the preferred MX hangs up: the message goes to the next MX by preference", async () => {
    const port = await commonFreePort(["127.0.0.1", "127.0.0.2"]);
    // the preferred host (127.0.0.2) takes connections and drops them at once
    let dropped = 0;
    const dead = net.createServer((s) => {
      dropped++;
      s.destroy();
    });
    await new Promise<void>((r) => dead.listen(port, "127.0.0.2", r));
    closers.push(() => new Promise((r) => dead.close(r)));
    const smtp = await scriptedSmtp(() => "250", "127.0.0.1", port);
    closers.push(smtp.close);
    const dns = tableResolver({
      // listed out of order: the preference decides
      "_dest.test": {
        MX: [
          { exchange: "_backup.dest.test", priority: 20 },
          { exchange: "_never.dest.test", priority: 30 },
          { exchange: "_primary.dest.test", priority: 10 },
        ],
      },
      "_primary.dest.test": { A: ["127.0.0.2"] },
      "_backup.dest.test": { A: ["127.0.0.1"] },
      "_never.dest.test": { A: ["127.0.0.3"] },
    });
    q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: 0, outbound_smtp_port: port },
      dns,
      {
        now: () => t,
      },
    );
    await q.send(["bob12345@_dest.test"]);
    await q.queue.idle();
    assert.ok(dropped >= 1, "the preferred host was tried first");
    assert.deepEqual(smtp.messages, [{ to: ["bob12345@_dest.test"] }], "the backup host got the message");
    assert.equal(q.failed.length, 0);
    assert.equal(await q.jobs(), 0);
  });

  test("after /mxdeliv failed and SMTP worked, the host gets SMTP only for 30 minutes", async () => {
    // a web server without /mxdeliv: its 404 is no /mxdeliv answer
    const web = await fakeHttps((_req, res) =>
      res.writeHead(404, { "Content-Type": "text/html" }).end("<p>no</p>"),
    );
    closers.push(web.close);
    const smtp: ScriptedSmtp = await scriptedSmtp(() => "250");
    closers.push(smtp.close);
    const dns = tableResolver({
      "_dest.test": { MX: [{ exchange: "_mx.dest.test", priority: 10 }] },
      "_mx.dest.test": { A: ["127.0.0.1"] },
    });
    q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: web.port, outbound_smtp_port: smtp.port },
      dns,
      { now: () => t },
    );
    const sendAt = async (time: number) => {
      t = time;
      await q!.send(["bob12345@_dest.test"]);
      await q!.queue.idle();
    };
    await sendAt(T0);
    assert.equal(web.state.requests, 1, "HTTPS first");
    assert.equal(smtp.messages.length, 1, "then SMTP");
    const second = T0 + 30 * MIN - 1;
    await sendAt(second);
    assert.equal(web.state.requests, 1, "no HTTPS within 30 minutes");
    assert.equal(smtp.messages.length, 2);
    // each SMTP delivery renews the mark; 30 minutes after the last one, HTTPS again
    await sendAt(second + 30 * MIN - 1);
    assert.equal(web.state.requests, 1);
    await sendAt(second + 30 * MIN - 1 + 30 * MIN);
    assert.equal(web.state.requests, 2, "HTTPS is tried again after 30 minutes");
    assert.equal(smtp.messages.length, 4);
    assert.equal(q.failed.length, 0);
    assert.equal(await q.jobs(), 0);
  });
});
