/**
 * A full disk: the relay's data_dir on an 8 MiB tmpfs (mounted here; the tests run
 * as root locally and in CI, and fail, never skip, when mounting is impossible).
 *
 * While a filler file takes the space back 4 KiB at a time, submissions (465), MX
 * deliveries (25, DKIM-signed by a peer domain) and IMAP APPENDs either succeed or
 * are refused temporarily: SMTP 452 4.3.1 (RFC 5321 §4.2.3, RFC 3463 §3.5) and IMAP
 * NO [UNAVAILABLE] (RFC 5530 §3). Every acknowledged message is then in the
 * INBOX exactly once, no refused one is, and no refused one left a body file;
 * IMAP keeps serving what is stored (LOGIN, also a first one that records the
 * login day, SELECT, FETCH) on the full disk; and when the filler goes,
 * delivery resumes in the same process without a restart.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  statfsSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { type DkimKeyPair, dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";
import { signMessage } from "../../src/dkim/sign.ts";
import { RawClient } from "../imap/support/raw-client.ts";
import { countBodies } from "../store/helpers.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { fixture } from "../support/mail.ts";
import { startTestRelay, type TestRelay } from "../support/relay.ts";
import { RawSmtp, submit } from "../support/smtp.ts";

const PEER = "other.test";
const PEER_SENDER = `sender123@${PEER}`;
const SMTP_FULL = /^452 4\.3\.1 /;
const IMAP_FULL = /^A\d+ NO \[UNAVAILABLE\] /;

/** An encrypted message whose Message-ID is `mark` (submission rewrites the Subject). */
function message(from: string, to: string, mark: string): Buffer {
  const m = fixture("encrypted", from, to, mark).toString("latin1");
  return Buffer.from(m.replace(/^Message-ID: <[^>]*>/m, `Message-ID: <${mark}>`), "latin1");
}

function mountTmpfs(dir: string): void {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir], { stdio: "pipe" });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `the disk-full test mounts a size-limited tmpfs and needs root (as in CI): ${err.stderr?.toString() || err.message}`,
    );
  }
}

function unmount(dir: string): void {
  try {
    execFileSync("umount", [dir], { stdio: "pipe" });
  } catch {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" });
  }
}

/** A file that takes all free space of its file system and gives it back in steps. */
class Filler {
  private readonly fd: number;
  constructor(
    readonly path: string,
    private readonly fsRoot: string,
  ) {
    this.fd = openSync(path, "a");
  }
  free(): number {
    const s = statfsSync(this.fsRoot);
    return s.bavail * s.bsize;
  }
  /** Appends until the file system says ENOSPC. */
  fill(): void {
    for (const size of [1 << 16, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x2e);
      try {
        for (;;) writeSync(this.fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
      }
    }
  }
  /** Gives `bytes` back. */
  shrink(bytes: number): void {
    ftruncateSync(this.fd, Math.max(0, fstatSync(this.fd).size - bytes));
  }
  remove(): void {
    closeSync(this.fd);
    rmSync(this.path);
  }
}

describe("disk full", () => {
  let mnt: string;
  let mounted = false;
  let dns: DnsServer;
  let key: DkimKeyPair;
  let r: TestRelay;
  let alice: string;
  let bob: string;
  /**
   * Created over SMTP, never logged in over IMAP: her first IMAP login records the day
   * (written if SQLite still has room in its WAL, else skipped: test/store/full.test.ts).
   */
  let carol: string;
  let filler: Filler;
  let n = 0;
  /** Marks (Message-IDs) of the messages acknowledged (250 / OK) and refused (4xx / NO). */
  const acked: string[] = [];
  const refused: string[] = [];

  const submitOne = async (subject: string): Promise<string> => {
    const res = await submit(
      r.submissions,
      alice,
      r.password,
      { from: alice, to: [bob] },
      message(alice, bob, subject),
    );
    return res.ok ? "250" : res.response;
  };

  const mxOne = async (subject: string): Promise<string> => {
    const signed = await signMessage(message(PEER_SENDER, bob, subject), {
      domain: PEER,
      selector: "sel",
      privateKeyPem: key.privateKeyPem,
    });
    const c = await RawSmtp.connect(r.smtpPort);
    try {
      await c.command(`EHLO ${PEER}`);
      await c.starttls();
      await c.command(`EHLO ${PEER}`);
      for (const cmd of [`MAIL FROM:<${PEER_SENDER}>`, `RCPT TO:<${bob}>`]) {
        const reply = await c.command(cmd);
        if (!reply.startsWith("250")) return reply;
      }
      const data = await c.command("DATA");
      if (!data.startsWith("354")) return data;
      const body = signed.toString("latin1").replace(/^\./gm, "..");
      return await c.command(`${body}${body.endsWith("\r\n") ? "" : "\r\n"}.`);
    } finally {
      c.close();
    }
  };

  const appendOne = async (subject: string): Promise<string> => {
    const c = await RawClient.connect(r.imapsPort);
    try {
      await c.read();
      await c.login(bob, r.password);
      const data = message(PEER_SENDER, bob, subject);
      const res = await c.command(
        "A1",
        Buffer.concat([Buffer.from(`APPEND INBOX {${data.length}+}\r\n`), data, Buffer.from("\r\n")]),
      );
      return res.at(-1)!.trimEnd();
    } finally {
      c.close();
    }
  };

  /** One delivery of each kind in turn; records the outcome by subject. */
  const deliverNext = async (): Promise<{ kind: string; reply: string; ok: boolean }> => {
    n++;
    const subject = `disk-full-${n}`;
    const kind = (["submission", "mx", "append"] as const)[n % 3]!;
    const reply =
      kind === "submission"
        ? await submitOne(subject)
        : kind === "mx"
          ? await mxOne(subject)
          : await appendOne(subject);
    const ok = kind === "append" ? reply.startsWith("A1 OK") : reply.startsWith("250");
    (ok ? acked : refused).push(subject);
    if (!ok) assert.match(reply, kind === "append" ? IMAP_FULL : SMTP_FULL, `${kind} ${subject}: ${reply}`);
    return { kind, reply, ok };
  };

  /** The marks in bob's INBOX, read over IMAP (LOGIN, SELECT, FETCH BODY.PEEK[]). */
  const inboxMarks = async (): Promise<string[]> => {
    const client = new ImapFlow({
      host: r.host,
      port: r.imapsPort,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: bob, pass: r.password },
      logger: false,
    });
    await client.connect();
    try {
      const box = await client.mailboxOpen("INBOX");
      const out: string[] = [];
      if (box.exists === 0) return out;
      for await (const m of client.fetch("1:*", { source: true })) {
        const id = /^Message-ID: <(.*)>/m.exec(m.source?.toString("latin1") ?? "")?.[1];
        out.push(id ?? "(none)");
      }
      return out;
    } finally {
      await client.logout();
    }
  };

  const assertInbox = async (): Promise<void> => {
    const got = await inboxMarks();
    const count = (s: string) => got.filter((g) => g === s).length;
    for (const s of acked) assert.equal(count(s), 1, `acknowledged ${s} is in the INBOX exactly once`);
    for (const s of refused) assert.equal(count(s), 0, `refused ${s} is not in the INBOX`);
    // a refused delivery leaves no body (file or row) behind to hold on to the space
    assert.equal(countBodies(join(mnt, "data")), acked.length, "bodies on disk");
  };

  before(async () => {
    mnt = mkdtempSync(join(tmpdir(), "chatrelay-diskfull-"));
    mountTmpfs(mnt);
    mounted = true;
    key = await generateDkimKey();
    dns = await startDnsServer({ [`sel._domainkey.${PEER}`]: { TXT: [dkimTxtRecord(key.publicKeyPem)] } });
    r = await startTestRelay({
      data_dir: join(mnt, "data"),
      dns_servers: [dns.address],
      max_user_send_per_minute: 10_000,
      max_user_send_burst_size: 10_000,
    });
    alice = r.newAddress();
    bob = r.newAddress();
    // both accounts exist (and bob's login day is recorded) before the disk fills
    for (const a of [alice, bob]) {
      const c = await RawClient.connect(r.imapsPort);
      await c.read();
      await c.login(a, r.password);
      c.close();
    }
    carol = r.newAddress();
    const smtp = nodemailer.createTransport({
      host: r.host,
      port: r.submissionsPort,
      secure: true,
      auth: { user: carol, pass: r.password },
      tls: { rejectUnauthorized: false },
    });
    await smtp.verify();
    smtp.close();
    filler = new Filler(join(mnt, "filler"), mnt);
  });

  after(async () => {
    await r?.close();
    await dns?.close();
    if (mounted) unmount(mnt);
    rmSync(mnt, { recursive: true, force: true });
  });

  test("deliveries before the disk fills", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await deliverNext()).ok, true, refused.join());
  });

  test("while space trickles back: each delivery is stored or refused with a temporary error", async () => {
    filler.fill();
    assert.ok(filler.free() < 4096, `filled: ${filler.free()} bytes free`);
    const outcomes: string[] = [];
    for (let i = 0; i < 36; i++) {
      const { kind, ok } = await deliverNext();
      outcomes.push(`${kind}:${ok ? "ok" : "4xx"}@${filler.free()}`);
      filler.shrink(4096);
    }
    console.log(`disk full, 4 KiB freed per step: ${outcomes.join(" ")}`);
    assert.ok(refused.length > 0, "something was refused");
    await assertInbox();
  });

  test("on a full disk: every kind refused with 4xx, IMAP still serves what is stored", async () => {
    filler.fill();
    const before = acked.length;
    for (let i = 0; i < 3; i++) assert.equal((await deliverNext()).ok, false);
    assert.equal(acked.length, before);
    await assertInbox();
    assert.ok(acked.length >= 3);
    // a first IMAP login, which wants to write the login day, gets in
    const c = await RawClient.connect(r.imapsPort);
    try {
      await c.read();
      await c.login(carol, r.password);
      assert.match((await c.command("A2", "SELECT INBOX")).at(-1)!, /^A2 OK /);
    } finally {
      c.close();
    }
  });

  test("when space returns, delivery resumes without a restart", async () => {
    filler.remove();
    for (let i = 0; i < 3; i++) {
      const { kind, reply, ok } = await deliverNext();
      assert.ok(ok, `${kind}: ${reply}`);
    }
    await assertInbox();
  });
});
