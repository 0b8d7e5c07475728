/**
 * Event-loop stalls from input: /mxdeliv with a 16 KB X-MAIL-TO of '@' (a
 * backtracking address check costs ~250 ms per request), an IMAP FETCH whose
 * 64 KiB sequence set repeats `1:*` over a mailbox of thousands of messages
 * (walked range by range: ~0.1 ms per range and thousand messages), and
 * messages with 300 DKIM-Signature headers on port 25 and /mxdeliv (one body
 * hash per signature). The event loop and the canary must stay responsive.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { fixture } from "../support/mail.ts";
import type { TestRelay } from "../support/relay.ts";
import { healthProblems, startAbuseRelay, underAttack } from "./canary.ts";
import { attacker, Conn } from "./wire.ts";

/** As many signatures as fit under the relay's 256 KB header bound. */
const SIGNATURES = 300;
/** CPU the whole DKIM attack (4 messages, TLS and the canary included) may cost. */
const CPU_BOUND_MS = 3000;

let r: TestRelay;
let dns: DnsServer;
let victim: string;
let privateKeyPem: string;

before(async () => {
  const key = await generateDkimKey();
  privateKeyPem = key.privateKeyPem;
  dns = await startDnsServer({ "sel._domainkey.other.test": { TXT: [dkimTxtRecord(key.publicKeyPem)] } });
  r = await startAbuseRelay({ dns_servers: [dns.address], max_message_size: 30 * 2 ** 20 });
  victim = r.newAddress();
  assert.ok((await r.relay.parts.accounts.login(victim, r.password, "imap", "127.0.0.1")).ok);
});
after(async () => {
  await r.close();
  await dns.close();
});

function mxdelivRequest(recipient: string, body: Buffer | string): string {
  const b = Buffer.from(body);
  return (
    "POST /mxdeliv HTTP/1.1\r\nHost: x\r\nX-Mail-From: sender@other.test\r\n" +
    `X-Mail-To: ${recipient}\r\nContent-Length: ${b.length}\r\n\r\n${b.toString("latin1")}`
  );
}

/** Reads HTTP status lines until `n` responses have started (bodies are skipped). */
async function statuses(c: Conn, n: number, ms: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const l = await c.line(ms);
    if (l.startsWith("HTTP/1.1 ")) out.push(l);
  }
  return out;
}

test("/mxdeliv: 16 KB X-MAIL-TO of '@' does not stall the event loop", async () => {
  const bad = `${"@".repeat(15_500)} x`;
  const answers: string[] = [];
  const report = await underAttack(r, "mxdeliv-address", async () => {
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        for (let k = 0; k < 4; k++) {
          const c = await Conn.open({ port: r.httpsPort, tls: true, alpn: ["http/1.1"], from: attacker(i) });
          c.write(mxdelivRequest(bad, "x"));
          answers.push(...(await statuses(c, 1, 30_000).catch((e: Error) => [e.message])));
          c.close();
        }
      }),
    );
  });
  const problems = healthProblems(report);
  const unexpected = answers.filter((a) => !/^HTTP\/1\.1 4\d\d/.test(a));
  if (unexpected.length) problems.push(`answers: ${unexpected.slice(0, 3).join(" | ")}`);
  assert.deepEqual(problems, []);
});

test("IMAP: FETCH with a 64 KiB sequence set of 1:* does not stall the event loop", async () => {
  const owner = r.newAddress();
  assert.ok((await r.relay.parts.accounts.login(owner, r.password, "imap", "127.0.0.1")).ok);
  const store = r.relay.parts.store;
  const data = Buffer.from("From: a@b.test\r\nSubject: x\r\n\r\nhello\r\n");
  for (let i = 0; i < 5000; i += 250)
    await Promise.all(Array.from({ length: 250 }, () => store.deliver([owner], { data })));
  const set = `${"1:*,".repeat(16_000)}1:*`;
  const report = await underAttack(r, "imap-sequence-set", async () => {
    await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const c = await Conn.open({ port: r.imapsPort, tls: true, from: attacker(i) });
        await c.line();
        c.write(`a LOGIN ${owner} ${r.password}\r\n`);
        await c.until("a ");
        c.write("s SELECT INBOX\r\n");
        await c.until("s ");
        for (let k = 0; k < 4; k++) c.write(`f${k} FETCH ${set} (UID)\r\n`);
        await c.until("f3 ", 60_000);
        c.close();
      }),
    );
  });
  assert.deepEqual(healthProblems(report), []);
});

test("300 DKIM-Signature headers on port 25 and /mxdeliv do not stall the relay", async () => {
  const base = fixture("encrypted", "sender@other.test", victim).toString("latin1");
  // 2 MiB of epilogue after the closing boundary: body the signatures cover
  const padded = Buffer.from(`${base}${`${"z".repeat(78)}\r\n`.repeat(26_000)}`, "latin1");
  const signed = await signMessage(padded, { domain: "other.test", selector: "sel", privateKeyPem });
  // the one signature field, then the message as it was (already CRLF)
  const field = signed.subarray(0, signed.length - padded.length).toString("latin1");
  // each with its own body length (l=, RFC 6376 §3.5), so that a verifier that hashes the body
  // once per distinct (algorithm, canonicalization, length) does it once per signature
  const fields = Array.from({ length: SIGNATURES }, (_, i) =>
    field.replace(/^DKIM-Signature:\s*/i, `DKIM-Signature: l=${2 ** 21 - i}; `),
  );
  const message = Buffer.from(fields.join("") + padded.toString("latin1"), "latin1");
  const answers: string[] = [];
  const cpu = process.cpuUsage();
  const report = await underAttack(r, "dkim-signatures", async () => {
    const viaHttp = Array.from({ length: 2 }, async (_, i) => {
      const c = await Conn.open({ port: r.httpsPort, tls: true, alpn: ["http/1.1"], from: attacker(i) });
      c.write(mxdelivRequest(victim, message));
      answers.push(...(await statuses(c, 1, 60_000).catch((e: Error) => [e.message])));
      c.close();
    });
    const viaSmtp = Array.from({ length: 2 }, async (_, i) => {
      const c = await Conn.open({ port: r.smtpPort, from: attacker(4 + i) });
      await c.reply();
      await c.smtp("EHLO other.test");
      await c.smtp("STARTTLS");
      await c.startTls();
      await c.smtp("EHLO other.test");
      await c.smtp("MAIL FROM:<sender@other.test>");
      await c.smtp(`RCPT TO:<${victim}>`);
      await c.smtp("DATA");
      c.write(message.toString("latin1").replace(/^\./gm, ".."));
      answers.push(await c.smtp("\r\n.", 60_000).catch((e: Error) => e.message));
      c.close();
    });
    await Promise.all([...viaHttp, ...viaSmtp]);
  });
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  console.log(
    `abuse[dkim-signatures]: CPU ${cpuMs.toFixed(0)} ms; answers ${JSON.stringify(answers.map((a) => a.slice(0, 60)))}`,
  );
  assert.match(field, /^DKIM-Signature:/);
  const problems = healthProblems(report);
  // one body hash per signature would be ~2 MiB × 300 × 4 messages of SHA-256
  if (cpuMs > CPU_BOUND_MS) problems.push(`the attack cost ${cpuMs.toFixed(0)} ms of CPU > ${CPU_BOUND_MS}`);
  assert.deepEqual(problems, []);
});
