/**
 * Prometheus metrics on mtail_address: two relays federating through a DNS
 * server on loopback, real clients (an IMAP session in IDLE, nodemailer
 * submissions and an MX delivery), then /metrics scraped over HTTP and parsed:
 * the counters moved by exactly what was done, the histograms got their
 * observations, and no label value carries an address, a user name or an IP.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { get } from "node:http";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import nodemailer from "nodemailer";
import { testConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { silentLogger } from "../../src/log.ts";
import { Relay, StartupError } from "../../src/relay.ts";
import { A, A_IP, B, B_IP, type Federation, startFederation } from "../support/federation.ts";
import { fixture } from "../support/mail.ts";
import { inbox, type TestRelay, until } from "../support/relay.ts";
import { sendFixture } from "../support/send.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format (0.0.4): comments, then `name{label="value",…} number`. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let l: RegExpExecArray | null;
    let end = 0;
    while ((l = label.exec(body))) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      end = label.lastIndex;
    }
    assert.equal(end, body.length, `bad labels: ${line}`);
    // Go's ParseFloat, as Prometheus reads it: NaN and Inf in any case
    const raw = m[3]!;
    const value = /^nan$/i.test(raw) ? Number.NaN : Number(raw.replace(/^([+-]?)inf$/i, "$1Infinity"));
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(raw), `bad value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

async function scrape(
  r: TestRelay,
  path = "/metrics",
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: r.config.mtail_address, port: r.relay.ports.metrics, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    }).on("error", reject);
  });
}

/** Scrapes and returns a reader: the value of `name` with exactly `labels` (0 when absent). */
async function metrics(r: TestRelay) {
  const res = await scrape(r);
  assert.equal(res.status, 200);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  const samples = parseMetrics(res.body);
  const read = (name: string, labels: Record<string, string> = {}) => {
    const want = JSON.stringify(Object.entries(labels).sort());
    const s = samples.find(
      (x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === want,
    );
    return s?.value ?? 0;
  };
  return Object.assign(read, { samples });
}

/** A raw IMAP client over TLS: enough to log in, select INBOX and IDLE. */
async function idleClient(r: TestRelay, user: string, password: string) {
  const socket = tls.connect({ host: r.host, port: r.imapsPort, rejectUnauthorized: false });
  let buf = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (buf += d));
  const waitFor = (re: RegExp) =>
    until(
      `IMAP ${re}`,
      () => (re.test(buf) ? true : undefined),
      () => buf,
    );
  await waitFor(/^\* OK/m);
  socket.write(`a LOGIN ${user} ${password}\r\n`);
  await waitFor(/^a OK/m);
  socket.write("b SELECT INBOX\r\n");
  await waitFor(/^b OK/m);
  socket.write("c IDLE\r\n");
  await waitFor(/^\+ idling/m);
  return { waitFor, close: () => socket.destroy() };
}

describe("Prometheus metrics on mtail_address", () => {
  let fed: Federation;
  let a: TestRelay;
  let b: TestRelay;

  before(async () => {
    fed = await startFederation();
    a = await fed.start(A, { mtail_address: A_IP });
    b = await fed.start(B, { mtail_address: B_IP });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await fed?.close();
  });

  test("counters move by what was done; histograms observe; labels are fixed enums", async () => {
    const pw = a.password;
    const alice = `alice1234@${A}`;
    const bob = `bob123456@${B}`;
    const carol = `carol1234@${B}`;
    const a0 = await metrics(a);
    const b0 = await metrics(b);

    // bob logs in (his account is created) and waits in IDLE on his INBOX
    const idle = await idleClient(b, bob, pw);
    // carol (created by her first submission) writes to bob: encrypted passes, cleartext is 523
    const sent = await sendFixture(b, "encrypted", carol, bob, { password: pw });
    assert.equal(sent.ok, true, sent.response);
    await idle.waitFor(/^\* 1 EXISTS/m);
    const plain = await sendFixture(b, "plain", carol, bob, { password: pw });
    assert.equal(plain.code, 523, plain.response);
    // alice on A writes to bob on B: DKIM-signed, queued, delivered over /mxdeliv
    const out = await sendFixture(a, "encrypted", alice, bob, { password: pw });
    assert.equal(out.ok, true, out.response);
    await idle.waitFor(/^\* 2 EXISTS/m);
    // cleartext from another server over SMTP (port 25) is refused
    const mx = nodemailer.createTransport({
      host: B_IP,
      port: b.smtpPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    await assert.rejects(
      mx.sendMail({ envelope: { from: alice, to: [bob] }, raw: fixture("plain", alice, bob) }),
      (e: { responseCode?: number }) => e.responseCode === 523,
    );
    mx.close();
    assert.equal((await inbox(b, bob)).length, 2);

    const a1 = await until("A's outbound delivery counted", async () => {
      const m = await metrics(a);
      return m("chatrelay_outbound_recipients_total", { result: "delivered" }) === 1 ? m : undefined;
    });
    const b1 = await metrics(b);
    const moved = (m1: typeof a1, m0: typeof a0, name: string, labels?: Record<string, string>) =>
      m1(name, labels) - m0(name, labels);

    // B: two accounts, two deliveries into bob's INBOX, one of them from A
    const expectB: Array<[string, number, Record<string, string>?]> = [
      ["created_accounts", 2],
      ["rejected_registrations", 0],
      ["delivered_mail", 2],
      ["dkim_signed", 0],
      ["outgoing_encrypted_mail_count", 1],
      ["outgoing_unencrypted_mail_count", 1],
      ["filtered_outgoing_mail_count", 2],
      ["incoming_encrypted_mail_count", 1],
      ["incoming_unencrypted_mail_count", 1],
      ["incoming_mailer_daemon_mail_count", 0],
      ["filtered_incoming_mail_count", 2],
      ["rejected_unencrypted_mail_count", 2],
      ["quota_exceeded", 0],
      ["chatrelay_mail_total", 1, { direction: "outgoing", result: "accepted" }],
      ["chatrelay_mail_total", 1, { direction: "outgoing", result: "rejected" }],
      ["chatrelay_mail_total", 1, { direction: "incoming", result: "accepted" }],
      ["chatrelay_mail_total", 1, { direction: "incoming", result: "rejected" }],
      // both deliveries reached bob's IDLE session
      ["chatrelay_commit_to_exists_seconds_count", 2],
      ["chatrelay_submission_seconds_count", 1],
    ];
    for (const [name, n, labels] of expectB) assert.equal(moved(b1, b0, name, labels), n, `B ${name}`);
    // A: one account, one signed submission handed to the queue and delivered
    const expectA: Array<[string, number, Record<string, string>?]> = [
      ["created_accounts", 1],
      ["delivered_mail", 0],
      ["dkim_signed", 1],
      ["outgoing_encrypted_mail_count", 1],
      ["filtered_outgoing_mail_count", 1],
      ["filtered_incoming_mail_count", 0],
      ["chatrelay_mail_total", 1, { direction: "outgoing", result: "accepted" }],
      ["chatrelay_submission_seconds_count", 1],
      ["chatrelay_outbound_recipients_total", 1, { result: "delivered" }],
      ["chatrelay_outbound_delivery_seconds_count", 1],
      ["chatrelay_commit_to_exists_seconds_count", 0],
    ];
    for (const [name, n, labels] of expectA) assert.equal(moved(a1, a0, name, labels), n, `A ${name}`);

    // a histogram's sum moves with its count, and every observation is within +Inf
    assert.ok(b1("chatrelay_commit_to_exists_seconds_sum") > 0);
    assert.ok(b1("chatrelay_commit_to_exists_seconds_sum") < 10, "commit to EXISTS within seconds");
    assert.equal(b1("chatrelay_commit_to_exists_seconds_bucket", { le: "+Inf" }), 2);
    // gauges: bob's one session is in IDLE; nothing waits in A's queue
    assert.equal(b1("chatrelay_idle_sessions"), 1);
    assert.ok(b1("chatrelay_connections", { protocol: "imap" }) >= 1);
    assert.equal(a1("chatrelay_outbound_queue_size"), 0);
    assert.equal(a1("chatrelay_push_queue_size"), 0);
    // process metrics: the event-loop delay is there
    assert.ok(a1.samples.some((s) => s.name === "nodejs_eventloop_lag_p99_seconds"));

    // no label value names a user, a domain or an IP address
    for (const [relay, m] of [
      ["A", a1],
      ["B", b1],
    ] as const) {
      for (const s of m.samples) {
        for (const [k, v] of Object.entries(s.labels)) {
          const what = `${relay} ${s.name}{${k}="${v}"}`;
          assert.doesNotMatch(
            v,
            /@|alice|bob|carol|_alpha|_beta|\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:/i,
            what,
          );
        }
      }
    }
    idle.close();
  });

  test("only /metrics is served", async () => {
    assert.equal((await scrape(a, "/")).status, 404);
    assert.equal((await scrape(a, "/metrics?x=1")).status, 200);
  });
});

/** The StartupError of Relay.start, or null when it started (then it is stopped again). */
async function startupError(config: Config): Promise<Error | null> {
  try {
    const relay = await Relay.start(config, silentLogger);
    await relay.stop(0);
    return null;
  } catch (e) {
    return e as Error;
  } finally {
    rmSync(config.data_dir, { recursive: true, force: true });
  }
}

test("a public (or unspecified) mtail_address stops start-up; a private one only needs to be bindable", async () => {
  for (const address of ["8.8.8.8", "0.0.0.0", "::", "2001:4860:4860::8888", "metrics.example.org"]) {
    const e = await startupError(testConfig({ mtail_address: address }));
    assert.ok(e instanceof StartupError, `${address}: ${e}`);
    assert.ok(e.message.startsWith(`mtail_address ${address}:`), e.message);
  }
  // 10.0.0.0/8 passes the check; binding fails on a machine without that address, with the listener named
  const e = await startupError(testConfig({ mtail_address: "10.255.255.254" }));
  assert.ok(e instanceof StartupError, String(e));
  assert.ok(e.message.startsWith("cannot listen on 10.255.255.254:0 (metrics)"), e.message);
});
