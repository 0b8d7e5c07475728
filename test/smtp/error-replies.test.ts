/**
 * Error replies of the SMTP and /mxdeliv doors: a local error (the store fails
 * while delivering) is a temporary 451 the sender retries (RFC 5321 §4.2.5),
 * too many connections a 421, and the 1001st recipient a 452 4.5.3
 * (RFC 5321 §4.5.3.1.10, RFC 3463 X.5.3).
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import net from "node:net";
import { after, before, test } from "node:test";
import { fixture } from "../support/mail.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { RawSmtp, submit } from "../support/smtp.ts";

let r: TestRelay;

before(async () => {
  r = await startTestRelay({ max_smtp_connections: 2 });
});
after(() => r.close());

/** Makes the relay's store throw on deliver until the returned function is called. */
function breakStore(): () => void {
  const store = r.relay.parts.store;
  const deliver = store.deliver;
  store.deliver = async () => {
    throw new Error("disk controller on fire");
  };
  return () => {
    store.deliver = deliver;
  };
}

test("submission: a failing store gives 451 4.3.0, a healthy one 250", async () => {
  const user = r.newAddress();
  const send = () =>
    submit(r.submissions, user, r.password, { from: user, to: [user] }, fixture("encrypted", user, user));
  const restore = breakStore();
  try {
    const res = await send();
    assert.equal(res.code, 451, res.response);
    assert.match(res.response, /^451 4\.3\.0 /);
  } finally {
    restore();
  }
  assert.equal((await send()).code, 250);
});

function mxdeliv(to: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: r.host,
        port: r.httpsPort,
        method: "POST",
        path: "/mxdeliv",
        rejectUnauthorized: false,
        headers: { "X-Mail-From": "sender@[127.0.0.1]", "X-Mail-To": to },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

test("/mxdeliv: a failing store gives 451, a healthy one 250", async () => {
  const user = r.newAddress();
  // creates the account
  await submit(r.submissions, user, r.password, { from: user, to: [user] }, fixture("encrypted", user, user));
  // an IP-literal sender is checked against the peer address instead of DKIM
  const body = fixture("encrypted", "sender@[127.0.0.1]", user);
  const restore = breakStore();
  try {
    const res = await mxdeliv(user, body);
    assert.equal(res.status, 400);
    assert.match(res.text, /^451 4\.3\.0 /);
  } finally {
    restore();
  }
  const ok = await mxdeliv(user, body);
  assert.equal(ok.text, "250 2.0.0 OK\n");
});

/** The first reply line a fresh connection gets. */
function greeting(port: number): Promise<{ line: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, r.host);
    let buf = "";
    socket.setEncoding("utf8");
    socket.on("error", reject);
    socket.on("data", (d: string) => {
      buf += d;
      const end = buf.indexOf("\r\n");
      if (end >= 0) resolve({ line: buf.slice(0, end), socket });
    });
  });
}

test("the 1001st recipient gets 452 4.5.3, the first 1000 are taken", async () => {
  const user = r.newAddress();
  await submit(r.submissions, user, r.password, { from: user, to: [user] }, fixture("encrypted", user, user));
  const c = await RawSmtp.connect(r.submissionPort);
  try {
    await c.command("EHLO client.example");
    await c.starttls();
    await c.command("EHLO client.example");
    const auth = Buffer.from(`\0${user}\0${r.password}`).toString("base64");
    assert.match(await c.command(`AUTH PLAIN ${auth}`), /^235 /);
    assert.match(await c.command(`MAIL FROM:<${user}>`), /^250 /);
    for (let i = 0; i < 1000; i++) {
      const reply = await c.command(`RCPT TO:<rcpt${i}@${r.domain}>`);
      assert.match(reply, /^250 /, `recipient ${i + 1}`);
    }
    assert.match(await c.command(`RCPT TO:<one-too-many@${r.domain}>`), /^452 4\.5\.3 /);
    // a recipient already given is no new one
    assert.match(await c.command(`RCPT TO:<rcpt5@${r.domain}>`), /^250 /);
  } finally {
    c.close();
  }
});

test("max_smtp_connections: the connection over the limit gets 421", async () => {
  const a = await greeting(r.submissionPort);
  const b = await greeting(r.submissionPort);
  try {
    assert.match(a.line, /^220 /);
    assert.match(b.line, /^220 /);
    const c = await greeting(r.submissionPort);
    c.socket.destroy();
    assert.match(c.line, /^421 /);
  } finally {
    a.socket.destroy();
    b.socket.destroy();
  }
});
