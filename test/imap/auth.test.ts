/** LOGIN, AUTHENTICATE PLAIN (SASL-IR), STARTTLS with LOGINDISABLED, limits and timeouts. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ImapHarness, startImap } from "./support/harness.ts";
import { PY_CONNECT, runPython } from "./support/python.ts";
import { quote, RawClient } from "./support/raw-client.ts";

let h: ImapHarness;

before(async () => {
  h = await startImap({ limits: { maxUserIp: 3 } });
});
after(() => h.close());

function plain(user: string, password: string, authzid = ""): string {
  return Buffer.from(`${authzid}\0${user}\0${password}`).toString("base64");
}

test('LOGIN with a quoted password containing \\" and \\\\', async () => {
  const user = await h.newUser();
  const tricky = await h.newUser();
  const password = 'pa"ss\\word-123!';
  // Create the second account with the tricky password through a fresh address.
  const address = tricky.replace(/^./, "z");
  assert.equal((await h.accounts.login(address, password, "imap", "127.0.0.1")).ok, true);
  const c = await RawClient.connect(h.port);
  await c.read();
  const r = await c.command("a1", `LOGIN ${quote(address)} ${quote(password)}`);
  assert.match(r[0]!, /^a1 OK \[CAPABILITY IMAP4rev1 .*XDELTAPUSH\] Logged in\r\n$/);
  assert.doesNotMatch(r[0]!, /AUTH=PLAIN/);
  c.close();
  // As a literal too.
  const d = await RawClient.connect(h.port);
  await d.read();
  d.write(`a2 LOGIN {${address.length}}\r\n`);
  assert.equal(await d.read(), "+ Ready for literal data\r\n");
  d.write(`${address} {${Buffer.byteLength(password)}+}\r\n${password}\r\n`);
  assert.match((await d.until("a2"))[0]!, /^a2 OK \[CAPABILITY/);
  d.close();
  // Wrong password: delayed NO, the session stays usable.
  const e = await RawClient.connect(h.port);
  await e.read();
  assert.deepEqual(await e.command("a3", `LOGIN ${quote(user)} "wrong-password-1"`), [
    "a3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
  ]);
  assert.deepEqual(await e.command("a4", "SELECT INBOX"), ["a4 BAD Please log in first\r\n"]);
  assert.match((await e.command("a5", `LOGIN ${quote(user)} ${quote(h.password)}`))[0]!, /^a5 OK/);
  assert.deepEqual(await e.command("a6", `LOGIN ${quote(user)} ${quote(h.password)}`), [
    "a6 BAD Already logged in\r\n",
  ]);
  e.close();
});

test("AUTHENTICATE PLAIN with SASL-IR, with a continuation, and cancelled", async () => {
  const user = await h.newUser();
  const c = await RawClient.connect(h.port);
  await c.read();
  assert.deepEqual(await c.command("a1", `AUTHENTICATE PLAIN ${plain(user, "bad-password-x")}`), [
    "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
  ]);
  c.write("a2 AUTHENTICATE PLAIN\r\n");
  assert.equal(await c.read(), "+ \r\n");
  c.write("*\r\n");
  assert.deepEqual(await c.until("a2"), ["a2 BAD Authentication aborted by client.\r\n"]);
  c.close();

  const d = await RawClient.connect(h.port);
  await d.read();
  d.write("b1 AUTHENTICATE PLAIN\r\n");
  assert.equal(await d.read(), "+ \r\n");
  d.write(`${plain(user, h.password, user)}\r\n`);
  assert.match((await d.until("b1"))[0]!, /^b1 OK \[CAPABILITY IMAP4rev1 /);
  d.close();

  const e = await RawClient.connect(h.port);
  await e.read();
  assert.match(
    (await e.command("c1", `AUTHENTICATE PLAIN ${plain(user, h.password)}`))[0]!,
    /^c1 OK \[CAPABILITY/,
  );
  e.close();

  const f = await RawClient.connect(h.port);
  await f.read();
  assert.deepEqual(await f.command("d1", "AUTHENTICATE PLAIN !!!"), [
    "d1 BAD Invalid base64 data in AUTHENTICATE response.\r\n",
  ]);
  assert.deepEqual(await f.command("d2", `AUTHENTICATE PLAIN ${plain(user, h.password, "other@x")}`), [
    "d2 NO [AUTHORIZATIONFAILED] Authorization as another user is not allowed.\r\n",
  ]);
  assert.deepEqual(await f.command("d3", "AUTHENTICATE CRAM-MD5"), [
    "d3 NO Unsupported authentication mechanism.\r\n",
  ]);
  f.close();
});

test("port 143: STARTTLS and LOGINDISABLED before TLS, plaintext after STARTTLS ignored", async () => {
  const user = await h.newUser();
  const c = await RawClient.connect(h.plainPort, { tls: false });
  const greeting = await c.read();
  assert.match(
    greeting,
    /^\* OK \[CAPABILITY IMAP4rev1 .* STARTTLS LOGINDISABLED\] _chatrelay\.test chatrelay ready\r\n$/,
  );
  assert.doesNotMatch(greeting, /AUTH=PLAIN/);
  assert.deepEqual(await c.command("a1", `LOGIN ${quote(user)} ${quote(h.password)}`), [
    "a1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n",
  ]);
  assert.deepEqual(await c.command("a2", `AUTHENTICATE PLAIN ${plain(user, h.password)}`), [
    "a2 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n",
  ]);
  // A command injected after STARTTLS in the same packet must never run.
  c.write("a3 STARTTLS\r\nx1 NOOP\r\n");
  assert.deepEqual(await c.until("a3"), ["a3 OK Begin TLS negotiation now.\r\n"]);
  await c.startTls();
  const caps = await c.command("a4", "CAPABILITY");
  assert.match(caps[0]!, /AUTH=PLAIN\r\n$/);
  assert.doesNotMatch(caps[0]!, /STARTTLS|LOGINDISABLED/);
  assert.ok(!c.log.some((l) => l.startsWith("x1 ")));
  assert.deepEqual(await c.command("a5", "STARTTLS"), ["a5 BAD TLS is already active.\r\n"]);
  assert.match(
    (await c.command("a6", `LOGIN ${quote(user)} ${quote(h.password)}`))[0]!,
    /^a6 OK \[CAPABILITY/,
  );
  c.close();
});

test("imaplib over implicit TLS and over STARTTLS", async () => {
  const user = await h.newUser();
  const out = await runPython(
    `${PY_CONNECT}
typ, data = M.login(user, password)
print(typ, data[0].decode())
typ, data = M.select("INBOX")
print(typ, data[0].decode())
print(M.logout()[0])
P = imaplib.IMAP4("127.0.0.1", int(sys.argv[4]))
print("LOGINDISABLED" in P.capabilities, "STARTTLS" in P.capabilities)
P.starttls(ssl_context=ctx)
print("AUTH=PLAIN" in P.capabilities)
print(P.login(user, password)[0])
P.logout()
`,
    [String(h.port), user, h.password, String(h.plainPort)],
  );
  assert.match(
    out,
    /^OK \[CAPABILITY IMAP4rev1 [^\]]*XCHATMAIL XDELTAPUSH\] Logged in\nOK 0\nBYE\nTrue True\nTrue\nOK\n$/,
  );
});

test("connection limits: per user and IP, and in total", async () => {
  const user = await h.newUser();
  const clients: RawClient[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.connect(h.port);
    await c.read();
    await c.login(user, h.password);
    clients.push(c);
  }
  const extra = await RawClient.connect(h.port);
  await extra.read();
  assert.deepEqual(await extra.command("a1", `LOGIN ${quote(user)} ${quote(h.password)}`), [
    "a1 NO [LIMIT] Maximum number of connections from user+IP exceeded.\r\n",
  ]);
  clients.pop()!.close();
  // Once one is gone, a login succeeds again.
  for (let i = 0; i < 50; i++) {
    const r = await extra.command(`b${i}`, `LOGIN ${quote(user)} ${quote(h.password)}`);
    if (r[0]!.includes(" OK ")) break;
    await new Promise((r2) => setTimeout(r2, 20));
  }
  assert.equal(extra.log[extra.log.length - 1]!.includes(" OK "), true);
  for (const c of clients) c.close();
  extra.close();

  const small = await startImap({ config: { max_imap_connections: 2 } });
  try {
    const a = await RawClient.connect(small.port);
    const b = await RawClient.connect(small.port);
    await a.read();
    await b.read();
    const c = await RawClient.connect(small.port);
    assert.equal(await c.read(), "* BYE Too many connections\r\n");
    a.close();
    b.close();
    c.close();
  } finally {
    await small.close();
  }
});

test("idle connections before login are closed", async () => {
  const t = await startImap({ limits: { preLoginTimeout: 100 } });
  try {
    const c = await RawClient.connect(t.port);
    await c.read();
    assert.equal(await c.read(5000), "* BYE Autologout; idle for too long\r\n");
  } finally {
    await t.close();
  }
});
