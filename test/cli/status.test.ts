/**
 * `chatrelay status` against a relay running as a child `chatrelay serve`,
 * after some traffic (two accounts, one stored message, one message waiting
 * for a remote domain whose DNS does not answer), then with the relay stopped.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ImapFlow } from "imapflow";
import type { StatusReport } from "../../src/cli/status.ts";
import { fixture } from "../support/mail.ts";
import { commonFreePort } from "../support/ports.ts";
import { submit } from "../support/smtp.ts";

const BIN = new URL("../../bin/chatrelay.js", import.meta.url).pathname;
const PASSWORD = "status-password-1";

function status(ini: string, json = true) {
  const args = [BIN, "status", "--config", ini, ...(json ? ["--json"] : [])];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function report(ini: string): { code: number | null; r: StatusReport } {
  const { code, stdout, stderr } = status(ini);
  assert.equal(stderr, "");
  return { code, r: JSON.parse(stdout) as StatusReport };
}

/** A TCP port nothing listens on: DNS queries to it fail, so outbound mail stays queued. */
async function closedPort(): Promise<number> {
  return commonFreePort(["127.0.0.1"]);
}

describe("chatrelay status", () => {
  let dir: string;
  let ini: string;
  let child: ChildProcess | undefined;
  const ports: Record<string, number> = {};
  const domain = "_status.test";
  const alice = `alice0001@${domain}`;
  const bob = `bob000001@${domain}`;
  const remote = "someone@remote.example";

  const writeIni = (minFreeDisk = "1M") =>
    writeFileSync(
      ini,
      `[params]\nmail_domain = ${domain}\nlisten_address = 127.0.0.1\ndata_dir = ${join(dir, "data")}\n` +
        `smtp_port = ${ports.smtp}\nsubmissions_port = ${ports.submissions}\nimaps_port = ${ports.imaps}\n` +
        `https_port = ${ports.https}\nsubmission_port = off\nimap_port = off\nhttp_port = off\n` +
        `push_url =\ndns_servers = 127.0.0.1:${ports.dns}\n` +
        `min_free_disk_space = ${minFreeDisk}\nmin_available_memory = 1M\nmax_load_1m = 1000\n`,
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "chatrelay-status-"));
    ini = join(dir, "chatmail.ini");
    for (const name of ["smtp", "submissions", "imaps", "https", "dns"]) ports[name] = await closedPort();
    writeIni();
    child = spawn(process.execPath, [BIN, "serve", "--config", ini], { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child!.stdout!.on("data", (d: Buffer) => {
        out += d;
        if (/listening: /.test(out)) resolve();
      });
      child!.once("exit", (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child!.once("exit", resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function imap(user: string) {
    const client = new ImapFlow({
      host: "127.0.0.1",
      port: ports.imaps!,
      secure: true,
      auth: { user, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
      logger: false,
    });
    await client.connect();
    return client;
  }

  test("beside the running relay: listeners, certificate, store and queues are right", async () => {
    // bob's first login creates his account; alice's submission creates hers
    const bobImap = await imap(bob);
    const t0 = Date.now();
    const sent = await submit(
      ports.submissions!,
      alice,
      PASSWORD,
      { from: alice, to: [bob, remote] },
      fixture("encrypted", alice, bob),
    );
    assert.ok(sent.ok, sent.response);
    const lock = await bobImap.getMailboxLock("INBOX");
    let size: number;
    try {
      const msg = await bobImap.fetchOne("*", { size: true });
      assert.ok(msg);
      size = msg.size!;
    } finally {
      lock.release();
    }
    await bobImap.logout();

    const { code, r } = report(ini);
    assert.equal(code, 0, JSON.stringify(r.attention));
    assert.deepEqual(r.attention, []);
    assert.equal(r.running, true);
    assert.deepEqual(
      r.listeners.map((l) => [l.name, l.port, l.listening]),
      [
        ["smtp", ports.smtp, true],
        ["submissions", ports.submissions, true],
        ["imaps", ports.imaps, true],
        ["https", ports.https, true],
      ],
    );
    assert.equal(r.certificate.path, join(dir, "data", "tls", "cert.pem"));
    assert.deepEqual(r.certificate.names, [domain, `www.${domain}`, `mta-sts.${domain}`]);
    assert.ok(r.certificate.daysLeft! > 300, String(r.certificate.daysLeft));
    assert.deepEqual(r.store, { accounts: 2, messages: 1, messageBytes: size });
    assert.equal(r.outbound.count, 1);
    const age = r.outbound.oldestAgeSeconds!;
    assert.ok(age >= 0 && age <= Math.ceil((Date.now() - t0) / 1000) + 1, String(age));
    assert.deepEqual(r.push, { count: 0 });
    assert.equal(r.accountCreation.switchedOff, false);
    assert.equal(r.accountCreation.disk!.limit, 2 ** 20);
    assert.ok(r.accountCreation.disk!.headroom > 0);
    assert.equal(r.accountCreation.memory.headroom, r.accountCreation.memory.value - 2 ** 20);
    assert.equal(r.accountCreation.load1m.limit, 1000);

    const text = status(ini, false);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^relay: running$/m);
    assert.match(text.stdout, new RegExp(`^ {2}imaps +127\\.0\\.0\\.1:${ports.imaps} {2}listening$`, "m"));
    assert.match(text.stdout, /^store: 2 accounts, 1 messages, /m);
    assert.match(text.stdout, /^outbound queue: 1, oldest queued \d+ s ago$/m);
    assert.match(text.stdout, /^push backlog: 0$/m);
    assert.match(text.stdout, /^ {2}disk free .*headroom /m);
    assert.match(text.stdout, /^all well$/m);

    // status wrote nothing the relay minds: it still takes mail and serves it
    const again = await submit(
      ports.submissions!,
      alice,
      PASSWORD,
      { from: alice, to: [bob] },
      fixture("encrypted", alice, bob),
    );
    assert.ok(again.ok, again.response);
    assert.equal(report(ini).r.store!.messages, 2);
  });

  test("a disk below min_free_disk_space needs attention", () => {
    writeIni("1000T");
    try {
      const { code, r } = report(ini);
      assert.equal(code, 1);
      assert.ok(r.accountCreation.disk!.headroom < 0);
      assert.deepEqual(r.attention, ["free disk space is below min_free_disk_space: no new accounts"]);
    } finally {
      writeIni();
    }
  });

  test("with the relay stopped: not running, the stored figures still read", async () => {
    child!.kill("SIGTERM");
    assert.equal(await new Promise((resolve) => child!.once("exit", resolve)), 0);
    const { code, r } = report(ini);
    assert.equal(code, 1);
    assert.equal(r.running, false);
    assert.ok(r.listeners.every((l) => l.listening === false));
    assert.deepEqual(r.attention, ["the relay is not running (no listener answers)"]);
    assert.deepEqual(r.store, { ...r.store!, accounts: 2, messages: 2 });
    assert.equal(r.outbound.count, 1);
    assert.equal(r.certificate.names[0], domain);
    const text = status(ini, false);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^relay: not running$/m);
    assert.match(text.stdout, /^attention: the relay is not running/m);
    // the ports are really free (nothing else answered the probes)
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(ports.imaps, "127.0.0.1", resolve));
    s.close();
  });
});
