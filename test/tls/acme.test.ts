/**
 * The built-in ACME client against Debian's pebble, which really validates:
 * its validation authority resolves the relay's names through the tests' DNS
 * server and fetches the HTTP-01 answer from the relay's port 80 listener or
 * does the TLS-ALPN-01 handshake with its 443 listener. A client trusting only
 * pebble's root then verifies the certificate on 993, 465 and 443; a forced
 * renewal keeps an open IMAP session and shows a new certificate to new handshakes.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import tls from "node:tls";
import { ImapFlow } from "imapflow";
import type { Config } from "../../src/config/types.ts";
import { createLogger } from "../../src/log.ts";
import { selfSignedCertificate } from "../../src/tls/selfsigned.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { type Pebble, startPebble } from "../support/pebble.ts";
import { commonFreePort } from "../support/ports.ts";
import { startTestRelay, type TestRelay, until } from "../support/relay.ts";

const DOMAIN = "chat.example.test";
const NAMES = [DOMAIN, `www.${DOMAIN}`, `mta-sts.${DOMAIN}`];

let dns: DnsServer;
let pebble: Pebble;
let root: string;
/** The ports pebble validates on: the relays' http_port and https_port. */
let httpPort: number;
let httpsPort: number;

before(async () => {
  dns = await startDnsServer(Object.fromEntries(NAMES.map((n) => [n, { A: ["127.0.0.1"] }])));
  httpPort = await commonFreePort(["127.0.0.1"]);
  do httpsPort = await commonFreePort(["127.0.0.1"]);
  while (httpsPort === httpPort);
  pebble = await startPebble({ dnsServer: dns.address, httpPort, tlsPort: httpsPort });
  root = await pebble.root();
});

after(async () => {
  await pebble?.close();
  await dns?.close();
});

interface Seen {
  serial: string;
  names: string;
}

/** A handshake that trusts only pebble's root and checks the name `servername`. */
function handshake(port: number, servername = DOMAIN): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername, ca: [root] }, () => {
      const cert = s.getPeerX509Certificate();
      s.destroy();
      if (!cert) reject(new Error("no certificate"));
      else resolve({ serial: cert.serialNumber, names: cert.subjectAltName ?? "" });
    });
    s.on("error", reject);
  });
}

async function startAcmeRelay(overrides: Partial<Config>): Promise<{ r: TestRelay; logs: string[] }> {
  const logs: string[] = [];
  const log = createLogger("info", { write: (line: string) => void logs.push(line) });
  const r = await startTestRelay(
    {
      mail_domain: DOMAIN,
      tls_mode: "acme",
      acme_directory: pebble.directory,
      acme_email: "admin@example.org",
      https_port: httpsPort,
      ...overrides,
    },
    { log, acmeCa: [pebble.apiCa], keepDataDir: true },
  );
  return { r, logs };
}

/** Waits until 993 verifies against pebble's root, i.e. the ACME certificate is installed. */
function issued(r: TestRelay, logs: string[]): Promise<Seen> {
  return until(
    "a certificate from pebble on 993",
    () => handshake(r.imapsPort).catch(() => undefined),
    () => `relay log:\n${logs.join("")}\npebble:\n${pebble.output().slice(-3000)}`,
    60_000,
  );
}

function obtainedWith(logs: string[]): string[][] {
  return logs
    .map((l) => JSON.parse(l) as { msg: string; challenges?: string[] })
    .filter((l) => l.msg === "acme: certificate obtained")
    .map((l) => l.challenges ?? []);
}

test("HTTP-01: the certificate verifies on 993, 465 and 443; a renewal keeps open sessions", async () => {
  const { r, logs } = await startAcmeRelay({ http_port: httpPort });
  let imap: ImapFlow | undefined;
  try {
    const first = await issued(r, logs);
    assert.deepEqual(obtainedWith(logs), [["http-01"]]);
    for (const port of [r.imapsPort, r.submissionsPort, r.httpsPort])
      assert.equal((await handshake(port)).serial, first.serial, `port ${port}`);
    for (const name of NAMES) await handshake(r.httpsPort, name);
    assert.equal(first.names, NAMES.map((n) => `DNS:${n}`).join(", "));
    // account key and certificate are in data_dir/acme, private
    const dir = join(r.config.data_dir, "acme");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of ["account.key", "account.json", "cert.pem", "key.pem"])
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);

    const user = r.newAddress();
    imap = new ImapFlow({
      host: "127.0.0.1",
      port: r.imapsPort,
      secure: true,
      auth: { user, pass: r.password },
      tls: { ca: [root], servername: DOMAIN },
      logger: false,
    });
    await imap.connect();

    const renewed = await r.relay.parts.acme?.renew();
    assert.ok(renewed);
    assert.notEqual(renewed.serial, first.serial);
    assert.equal(obtainedWith(logs).length, 2);
    // the open session goes on with its old keys; every new handshake shows the new certificate
    await imap.noop();
    const box = await imap.status("INBOX", { messages: true });
    assert.ok(box);
    assert.equal(box.messages, 0);
    for (const port of [r.imapsPort, r.submissionsPort, r.httpsPort]) {
      const seen = await handshake(port);
      assert.equal(seen.serial, renewed.serial, `port ${port}`);
    }
  } finally {
    await imap?.logout().catch(() => undefined);
    await r.close();
  }
  // a restart serves the stored certificate at once and asks for no new one
  const again = await startAcmeRelay({ http_port: httpPort, data_dir: r.config.data_dir });
  try {
    const seen = await handshake(again.r.imapsPort);
    assert.equal(seen.serial, new X509Certificate(await certPem(r)).serialNumber);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(obtainedWith(again.logs), []);
  } finally {
    await again.r.close();
    rmSync(r.config.data_dir, { recursive: true, force: true });
  }
});

function certPem(r: TestRelay): Promise<string> {
  return readFile(join(r.config.data_dir, "acme", "cert.pem"), "utf8");
}

test("TLS-ALPN-01: with port 80 off, pebble validates the 443 handshake", async () => {
  const { r, logs } = await startAcmeRelay({ http_port: -1 });
  try {
    assert.equal(r.relay.ports.http, undefined);
    const seen = await issued(r, logs);
    assert.deepEqual(obtainedWith(logs), [["tls-alpn-01"]]);
    for (const port of [r.submissionsPort, r.httpsPort])
      assert.equal((await handshake(port)).serial, seen.serial);
    // the challenge is over: acme-tls/1 gets no special certificate any more
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = tls.connect(
          {
            host: "127.0.0.1",
            port: r.httpsPort,
            servername: DOMAIN,
            ca: [root],
            ALPNProtocols: ["acme-tls/1"],
          },
          () => resolve(s.alpnProtocol),
        );
        s.on("error", reject);
      }),
      /no application protocol|no_application_protocol/i,
    );
  } finally {
    await r.close();
    rmSync(r.config.data_dir, { recursive: true, force: true });
  }
});

test("a failed validation: the relay keeps serving, one error line names the reason and the retry", async () => {
  const { r, logs } = await startAcmeRelay({ http_port: httpPort, mail_domain: "unknown.example.test" });
  try {
    const line = await until(
      "the failure log line",
      () =>
        logs
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.msg === "acme: certificate request failed"),
      () => logs.join(""),
      30_000,
    );
    assert.equal(line.level, 50);
    assert.equal(line.retry_in_s, 300);
    assert.equal(line.expires, "no certificate yet");
    assert.match(String(line.reason), /unknown\.example\.test|NXDOMAIN|DNS/i);
    // the temporary certificate keeps the listeners up
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const c = tls.connect({ host: "127.0.0.1", port: r.imapsPort, rejectUnauthorized: false }, () =>
        resolve(c),
      );
      c.on("error", reject);
    });
    s.destroy();
    assert.equal(obtainedWith(logs).length, 0);
  } finally {
    await r.close();
    rmSync(r.config.data_dir, { recursive: true, force: true });
  }
});

test("a stored certificate near its expiry is renewed at start-up", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "chatrelay-acme-"));
  // valid for another 5 hours of 29: less than a third of its lifetime left
  const old = await selfSignedCertificate(NAMES, 29 / 24 / 365);
  mkdirSync(join(dataDir, "acme"), { mode: 0o700 });
  writeFileSync(join(dataDir, "acme", "cert.pem"), old.cert, { mode: 0o600 });
  writeFileSync(join(dataDir, "acme", "key.pem"), old.key, { mode: 0o600 });
  const { r, logs } = await startAcmeRelay({ http_port: httpPort, data_dir: dataDir });
  try {
    await issued(r, logs);
    assert.equal(obtainedWith(logs).length, 1);
    assert.notEqual(await certPem(r), old.cert);
  } finally {
    await r.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
