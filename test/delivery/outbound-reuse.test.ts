/**
 * How the outbound queue carries many messages to one peer: over kept-alive
 * connections (one TLS connection for messages sent one after another, on HTTPS
 * and on SMTP, the latter without an RSET between transactions), with several
 * /mxdeliv requests in flight at once, and from the in-memory schedule (a
 * delivered job does not make the queue read its job list again).
 */
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import type net from "node:net";
import { afterEach, describe, test } from "node:test";
import { SMTPServer } from "smtp-server";
import { SmtpPool } from "../../src/delivery/outbound/smtp-channel.ts";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { ALICE, fakeHttps, MESSAGE, startQueue, type TestQueue, tableResolver } from "./outbound-harness.ts";

const DOMAIN = "_peer.test";
const dns = tableResolver({
  [DOMAIN]: { MX: [{ exchange: "_mx.peer.test", priority: 10 }] },
  "_mx.peer.test": { A: ["127.0.0.1"] },
});
const rcpt = (i: number) => `user${String(i).padStart(4, "0")}@${DOMAIN}`;

/** filtermail's answer to a delivered message (https-channel.ts). */
function accept(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end("250 OK");
}

/** Resolves once `check` holds; rejects after a generous bound (a hang, not a timing). */
async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * An SMTP receiver (STARTTLS, self-signed) that records the commands of each connection.
 * With `together`, it answers no message before that many are waiting for their answer.
 */
async function commandLog(together = 1) {
  const { key, cert } = await selfSignedCertificate(["localhost"]);
  const byConnection = new Map<string, string[]>();
  const noop = () => {};
  const logger = {
    info: noop,
    warn: noop,
    error: noop,
    trace: noop,
    fatal: noop,
    debug(meta: { tnx?: string; cid?: string; command?: string }) {
      if (meta.tnx !== "command" || !meta.cid || !meta.command) return;
      byConnection.set(meta.cid, [...(byConnection.get(meta.cid) ?? []), meta.command]);
    },
  };
  let messages = 0;
  const waiting: Array<() => void> = [];
  const server = new SMTPServer({
    key,
    cert,
    authOptional: true,
    disabledCommands: ["AUTH"],
    lenientAddressParsing: true,
    logger: logger as never,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on("end", () => {
        messages++;
        waiting.push(callback);
        if (waiting.length >= together) for (const done of waiting.splice(0)) done();
      });
    },
  });
  server.on("error", () => {});
  const sockets: net.Socket[] = [];
  (server.server as net.Server).on("connection", (s: net.Socket) => sockets.push(s));
  const port = await new Promise<number>((resolve) => {
    const s = server.server as net.Server;
    s.listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port));
  });
  return {
    port,
    byConnection,
    /** Connections still open. */
    open: () => sockets.filter((s) => !s.destroyed && !s.closed).length,
    /** Hangs up every connection, as a peer's idle timeout would. */
    hangUp: () => {
      for (const s of sockets.splice(0)) s.destroy();
    },
    messages: () => messages,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("outbound queue: connections and schedule", () => {
  let q: TestQueue | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await q?.close();
    q = undefined;
    for (const c of closers.splice(0)) await c();
  });

  test("messages sent one after another share one TLS connection to the /mxdeliv peer", async () => {
    const peer = await fakeHttps(accept);
    closers.push(peer.close);
    let tls = 0;
    peer.server.on("secureConnection", () => tls++);
    q = await startQueue({ outbound_allow_private: true, outbound_https_port: peer.port }, dns);
    for (let i = 0; i < 5; i++) {
      await q.send([rcpt(i)]);
      await q.queue.idle();
    }
    assert.equal(peer.state.requests, 5);
    assert.equal(await q.jobs(), 0, "all delivered");
    assert.equal(tls, 1, "one TLS handshake for five messages");
  });

  test("several /mxdeliv requests to one peer are in flight at once", async () => {
    const WANT = 8;
    let open = 0;
    let peak = 0;
    const held: ServerResponse[] = [];
    const peer = await fakeHttps((req, res) => {
      peak = Math.max(peak, ++open);
      held.push(res);
      // answered together once WANT are waiting: a queue that sends fewer at once never gets there
      if (open >= WANT) for (const r of held.splice(0)) accept(req, r);
    });
    closers.push(peer.close);
    q = await startQueue({ outbound_allow_private: true, outbound_https_port: peer.port }, dns);
    // one job per message: separate submissions to the same domain
    for (let i = 0; i < WANT; i++) await q.send([rcpt(i)]);
    await until(() => peak >= WANT, `${WANT} requests open at the peer at once`);
    await q.queue.idle();
    assert.equal(await q.jobs(), 0, "all delivered");
  });

  test("SMTP: messages one after another go over one connection, without RSET between them", async () => {
    const peer = await commandLog();
    closers.push(peer.close);
    q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: 0, outbound_smtp_port: peer.port },
      dns,
    );
    for (let i = 0; i < 4; i++) {
      await q.send([rcpt(i)]);
      await q.queue.idle();
    }
    assert.equal(peer.messages(), 4);
    const sessions = [...peer.byConnection.values()];
    assert.equal(sessions.length, 1, "one connection for four messages");
    const commands = sessions[0]!.filter((c) => c !== "EHLO" && c !== "STARTTLS");
    assert.deepEqual(commands, Array(4).fill(["MAIL", "RCPT", "DATA"]).flat());
  });

  test("SMTP: after the peer hung up an idle connection, the next message still goes at once", async () => {
    const peer = await commandLog();
    closers.push(peer.close);
    q = await startQueue(
      { outbound_allow_private: true, outbound_https_port: 0, outbound_smtp_port: peer.port },
      dns,
    );
    for (let i = 0; i < 3; i++) {
      await q.send([rcpt(i)]);
      await q.queue.idle();
      peer.hangUp();
    }
    assert.equal(peer.messages(), 3, "each delivered on its first attempt, none deferred");
    assert.equal(await q.jobs(), 0);
    assert.equal(q.failed.length, 0);
  });

  test("SMTP: closing the pool closes every pooled connection", async () => {
    // four messages in DATA at the same time: four connections
    const peer = await commandLog(4);
    closers.push(peer.close);
    const pool = new SmtpPool("_origin.test");
    // a socket timeout far beyond the wait below: only close() can end them in time
    const target = { name: "localhost", address: "127.0.0.1", port: peer.port, rejectUnauthorized: false };
    const sent = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        pool.send({ ...target, timeoutMs: 120_000 }, { mailFrom: ALICE, recipients: [rcpt(i)] }, MESSAGE),
      ),
    );
    assert.deepEqual(
      sent.map((r) => r.kind),
      ["replies", "replies", "replies", "replies"],
    );
    assert.equal(peer.byConnection.size, 4, "four pooled connections");
    pool.close();
    await until(() => peer.open() === 0, "every connection closed");
  });

  test("a delivered job does not make the queue read its job list again", async () => {
    const peer = await fakeHttps(accept);
    closers.push(peer.close);
    q = await startQueue({ outbound_allow_private: true, outbound_https_port: peer.port }, dns);
    await q.queue.idle();
    const store = q.store;
    let reads = 0;
    const { dueJobs, listJobs } = store;
    store.dueJobs = (...a) => {
      reads++;
      return dueJobs.apply(store, a);
    };
    store.listJobs = (...a) => {
      reads++;
      return listJobs.apply(store, a);
    };
    const N = 30;
    for (let i = 0; i < N; i++) await q.send([rcpt(i)]);
    await until(() => peer.state.requests >= N, "every message at the peer");
    await q.queue.idle();
    store.dueJobs = dueJobs;
    store.listJobs = listJobs;
    assert.equal(await q.jobs(), 0, "all delivered");
    // only the periodic scan (every 5 s) may read; a read per delivered job would be ≥ N
    assert.ok(reads <= N / 3, `${reads} reads of the job list for ${N} deliveries`);
  });
});
