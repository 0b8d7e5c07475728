/**
 * Authentication abuse while the canary (127.0.0.1) logs in and sends: many
 * failed AUTH on one SMTP connection (cut off), an 11 KB password (refused
 * before hashing, never an account), a login storm from one address (that
 * address is throttled, even with the right password), and an account-creation
 * storm from one address (bounded by max_accounts_per_ip).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestRelay } from "../support/relay.ts";
import { healthProblems, startAbuseRelay, underAttack } from "./canary.ts";
import { attacker, Conn } from "./wire.ts";

const FAILURES_PER_IP = 10;
const ACCOUNTS_PER_IP = 5;

let r: TestRelay;
let target: string;
before(async () => {
  r = await startAbuseRelay({
    max_login_failures_per_ip: FAILURES_PER_IP,
    max_login_failures_per_account: 1000,
    max_accounts_per_ip: ACCOUNTS_PER_IP,
  });
  target = r.newAddress();
  assert.ok((await r.relay.parts.accounts.login(target, r.password, "imap", "127.0.0.100")).ok);
});
after(() => r.close());

/** One IMAP LOGIN on a fresh 993 connection from `from`: the tagged reply (or why there was none). */
async function imapLogin(from: string, user: string, password: string): Promise<string> {
  let c: Conn | undefined;
  try {
    c = await Conn.open({ port: r.imapsPort, tls: true, from });
    await c.line();
    // a literal (RFC 3501 §4.3) carries any password
    c.write(`l LOGIN ${user} {${Buffer.byteLength(password)}}\r\n`);
    const cont = await c.line(10_000);
    if (!cont.startsWith("+")) return cont;
    c.write(`${password}\r\n`);
    return await c.until("l ", 15_000);
  } catch (e) {
    return `no reply: ${(e as Error).message.slice(0, 60)}`;
  } finally {
    c?.close();
  }
}

test("auth abuse is cut off and throttled; the canary logs in and sends", async () => {
  const found: Record<string, unknown> = {};
  const report = await underAttack(r, "auth", async () => {
    // 1. failed AUTH PLAIN on one submission connection, until the server hangs up
    const smtp = await Conn.open({ port: r.submissionsPort, tls: true, from: attacker(0) });
    await smtp.reply();
    await smtp.smtp("EHLO attacker.test");
    let attempts = 0;
    while (attempts < 20 && !smtp.closed) {
      const plain = Buffer.from(`\0${target}\0wrong-password-${attempts}`).toString("base64");
      const reply = await smtp.smtp(`AUTH PLAIN ${plain}`, 15_000).catch(() => "closed");
      if (reply === "closed") break;
      attempts++;
    }
    found.smtpFailuresBeforeCutOff = smtp.closed ? attempts : `still open after ${attempts}`;
    smtp.close();

    // 2. an 11 KB password for a new address (AUTH PLAIN, RFC 4616): refused, no account made
    const fresh = r.newAddress();
    const long = await Conn.open({ port: r.submissionsPort, tls: true, from: attacker(1) });
    await long.reply();
    await long.smtp("EHLO attacker.test");
    const plain = Buffer.from(`\0${fresh}\0${"p".repeat(11 * 1024)}`).toString("base64");
    found.longPassword = await long.smtp(`AUTH PLAIN ${plain}`, 15_000).catch((e: Error) => e.message);
    long.close();
    found.longPasswordAccount = await r.relay.parts.accounts.exists(fresh);

    // 3. a login storm from one address, then the right password from there
    await Promise.all(
      Array.from({ length: 2 * FAILURES_PER_IP }, (_, i) =>
        imapLogin(attacker(2), target, `wrong-pass-${i}`),
      ),
    );
    found.rightPasswordAfterStorm = await imapLogin(attacker(2), target, r.password);
    found.rightPasswordElsewhere = await imapLogin(attacker(3), target, r.password);

    // 4. account creation storm from one address
    let created = 0;
    for (let i = 0; i < 2 * ACCOUNTS_PER_IP; i++)
      if ((await imapLogin(attacker(4), r.newAddress(), r.password)).startsWith("l OK")) created++;
    found.accountsCreated = created;
    found.accountElsewhere = await imapLogin(attacker(5), r.newAddress(), r.password);
  });
  console.log(`abuse[auth]: ${JSON.stringify(found)}`);
  const problems = healthProblems(report);
  const cut = found.smtpFailuresBeforeCutOff;
  if (typeof cut !== "number" || cut > 5) problems.push(`SMTP failed AUTHs on one connection: ${cut}`);
  if (!/^5\d\d/.test(String(found.longPassword))) problems.push(`11 KB password: ${found.longPassword}`);
  if (found.longPasswordAccount) problems.push("an account was created with an 11 KB password");
  if (String(found.rightPasswordAfterStorm).startsWith("l OK"))
    problems.push("the storming address still logs in after its failure budget");
  if (!String(found.rightPasswordElsewhere).startsWith("l OK"))
    problems.push(`another address could not log in: ${found.rightPasswordElsewhere}`);
  if (Number(found.accountsCreated) > ACCOUNTS_PER_IP)
    problems.push(`${found.accountsCreated} accounts created from one address`);
  if (!String(found.accountElsewhere).startsWith("l OK"))
    problems.push(`account creation from another address: ${found.accountElsewhere}`);
  assert.deepEqual(problems, []);
});
