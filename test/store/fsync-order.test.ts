/**
 * "250 means durable", checked on the system calls: a relay in a child process
 * runs under `strace -f -y -xx` (Debian's strace) while one connection submits
 * a small message (its body inline in SQLite) and a large one (its body a
 * file). For each, the trace must show the data reach the disk before the
 * first octet of the 250 is written to the client's socket:
 *  - small: the WAL page holding the body written, then an fsync/fdatasync of
 *    the WAL returned; no body file written;
 *  - large: the body file written, then its fdatasync returned, its directory
 *    fsynced, the WAL page holding the row that names the file written, and an
 *    fsync/fdatasync of the WAL returned.
 * The reply is encrypted on the wire, so a TCP proxy between client and relay
 * records the ciphertext of the 250; the relay's socket write carrying those
 * octets is the 250. Order is strace's line order (strace-log.ts), not time.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { INLINE_MAX_BYTES } from "../../src/store/inline-bodies.ts";
import { dial } from "../support/line-conn.ts";
import { fixture } from "../support/mail.ts";
import { RawSmtp } from "../support/smtp.ts";
import { parseStrace, type SyscallEvent } from "./strace-log.ts";

const RELAY = fileURLToPath(new URL("./fsync-order-relay.ts", import.meta.url));
const SYNCS = new Set(["fsync", "fdatasync"]);
const SOCKET_WRITES = new Set(["write", "writev", "sendto"]);

/** A TCP proxy to `port` that keeps every octet the server sent, in order. */
async function proxy(port: number): Promise<{ port: number; received: () => Buffer; close: () => void }> {
  const down: Buffer[] = [];
  const server = net.createServer((client) => {
    const up = net.connect({ port, host: "127.0.0.1" });
    client.pipe(up);
    up.on("data", (d: Buffer) => {
      down.push(d);
      client.write(d);
    });
    up.on("close", () => client.destroy());
    client.on("close", () => up.destroy());
    for (const s of [client, up]) s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => Buffer.concat(down),
    close: () => server.close(),
  };
}

/** An encrypted message whose header lines repeat `mark`, about `size` octets. */
function message(address: string, mark: string, size: number): Buffer {
  const base = fixture("encrypted", address, address, mark).toString("utf8");
  const line = `X-Mark: ${mark} ${mark}\r\n`;
  const pad = line.repeat(Math.max(1, Math.ceil((size - base.length) / line.length)));
  return Buffer.from(pad + base, "utf8");
}

/** Sends one message on an authenticated connection; returns the octets of the encrypted 250. */
async function send(c: RawSmtp, address: string, data: Buffer, seen: () => Buffer): Promise<Buffer> {
  assert.match(await c.command(`MAIL FROM:<${address}> SIZE=${data.length}`), /^250 /);
  assert.match(await c.command(`RCPT TO:<${address}>`), /^250 /);
  assert.match(await c.command("DATA"), /^354 /);
  // the relay says nothing more until its reply to the end of the data
  const from = seen().length;
  c.write(Buffer.concat([data, Buffer.from(".\r\n")]));
  assert.match(await c.reply(), /^250 /);
  return seen().subarray(from);
}

/** The relay's first socket write of (part of) `reply`. */
function replyWrite(events: SyscallEvent[], reply: Buffer): SyscallEvent {
  const w = events.find(
    (e) => SOCKET_WRITES.has(e.name) && !e.truncated && e.data.length >= 16 && reply.includes(e.data),
  );
  assert.ok(w, "the relay's write of the 250 is in the trace");
  return w;
}

/** The first fsync/fdatasync of `path` entered after line `after`, which returned 0. */
function syncOf(events: SyscallEvent[], path: string, after: number): SyscallEvent {
  const s = events.find((e) => SYNCS.has(e.name) && e.fdPath === path && e.entry > after);
  assert.ok(s, `an fsync of ${path} after line ${after}`);
  assert.equal(s.ret, "0", `fsync of ${path}`);
  return s;
}

/** A write of `needle` into a file that `where` accepts. */
function writeOf(events: SyscallEvent[], where: (path: string) => boolean, needle: string) {
  return events.find(
    (e) =>
      (e.name === "write" || e.name === "pwrite64") &&
      e.fdPath !== undefined &&
      where(e.fdPath) &&
      e.data.includes(needle),
  );
}

function before(what: string, ev: SyscallEvent, reply: SyscallEvent): void {
  assert.ok(
    ev.exit < reply.entry,
    `${what} must return before the 250: line ${ev.exit}, the 250 line ${reply.entry}`,
  );
}

async function startRelay(dir: string): Promise<{ child: ChildProcess; port: number; address: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", RELAY, dir], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const ready = await new Promise<{ port: number; address: string }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.slice(0, out.indexOf("\n"))));
    });
    child.once("exit", (code) => reject(new Error(`relay exited ${code}: ${err}`)));
  });
  return { child, ...ready };
}

/** strace attached to every thread of `pid` (and the threads it starts), writing to `log`. */
async function attach(pid: number, log: string): Promise<ChildProcess> {
  const args = ["-f", "-y", "-xx", "-s", "8192", "-o", log, "-p", String(pid)];
  const trace = ["fsync", "fdatasync", "write", "writev", "sendto", "pwrite64"];
  const strace = spawn("strace", [...args, "-e", `trace=${trace.join(",")}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let err = "";
    strace.stderr!.on("data", (d) => {
      err += d;
      if (new RegExp(`Process ${pid} attached`).test(err)) resolve();
    });
    strace.once("error", reject);
    strace.once("exit", (code) => reject(new Error(`strace exited ${code}: ${err}`)));
  });
  return strace;
}

test("strace log: interleaved threads pair their unfinished and resumed halves by thread id", () => {
  const log = [
    "7 fsync(3<\\x2f\\x77\\x61\\x6c>) = 0",
    "8 fdatasync(4</f> <unfinished ...>",
    '7 write(5<socket:[1]>, "\\x32\\x35\\x30", 3 <unfinished ...>',
    "--- SIGCHLD {si_signo=SIGCHLD} ---",
    "7 <... write resumed>) = 3",
    "9 <... fsync resumed>) = 0",
    "8 <... fdatasync resumed>) = 0",
    '9 pwrite64(6</w>, "\\x61"..., 4096, 0 <unfinished ...>',
    "9 +++ killed by SIGKILL +++",
  ].join("\n");
  const ev = parseStrace(log);
  const brief = ev.map((e) => [
    e.tid,
    e.name,
    e.fdPath,
    e.data.toString("latin1"),
    e.truncated,
    e.entry,
    e.exit,
    e.ret,
  ]);
  assert.deepEqual(brief, [
    [7, "fsync", "/wal", "", false, 0, 0, "0"],
    [8, "fdatasync", "/f", "", false, 1, 6, "0"],
    [7, "write", "socket:[1]", "250", false, 2, 4, "3"],
    [9, "pwrite64", "/w", "a", true, 7, Number.POSITIVE_INFINITY, ""],
  ]);
});

const exited = (p: ChildProcess) =>
  new Promise((resolve) => (p.exitCode !== null || p.signalCode ? resolve(null) : p.once("exit", resolve)));

test("the fsyncs of a small (inline) and a large (file) body return before their 250 is written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-fsync-order-"));
  const dataDir = join(dir, "data");
  const log = join(dir, "strace.log");
  const relay = await startRelay(dataDir);
  let strace: ChildProcess | undefined;
  const p = await proxy(relay.port);
  try {
    strace = await attach(relay.child.pid!, log);
    const c = new RawSmtp(await dial({ port: p.port, tls: true }), { encoding: "utf8" });
    assert.match(await c.reply(), /^220 /);
    assert.match(await c.command("EHLO client.test"), /^250/);
    const plain = Buffer.from(`\0${relay.address}\0test-password-123`).toString("base64");
    assert.match(await c.command(`AUTH PLAIN ${plain}`), /^235 /);
    const marks = {
      small: `small-${randomBytes(8).toString("hex")}`,
      large: `large-${randomBytes(8).toString("hex")}`,
    };
    const small = message(relay.address, marks.small, 4096);
    const large = message(relay.address, marks.large, INLINE_MAX_BYTES + 8192);
    const smallReply = await send(c, relay.address, small, p.received);
    const largeReply = await send(c, relay.address, large, p.received);
    c.close();
    relay.child.kill("SIGKILL");
    await exited(strace);
    const events = parseStrace(readFileSync(log, "latin1"));
    const isWal = (path: string) => path === join(dataDir, "store.sqlite-wal");
    const isBodyFile = (path: string) => path.startsWith(join(dataDir, "messages") + "/");

    // small: the body in a WAL page, the WAL synced, then the 250
    const r1 = replyWrite(events, smallReply);
    const wal1 = writeOf(events, isWal, marks.small);
    assert.ok(wal1, "the small body was written to the WAL");
    before("the WAL fsync after the small body", syncOf(events, wal1.fdPath!, wal1.exit), r1);
    assert.equal(writeOf(events, isBodyFile, marks.small), undefined, "no body file for the small message");

    // large: the file written and synced, its directory synced, the row naming it in the WAL synced
    const r2 = replyWrite(events, largeReply);
    assert.ok(r2.entry > r1.entry);
    const file = writeOf(events, isBodyFile, marks.large);
    assert.ok(file, "the large body was written to a file");
    before("the body file's fdatasync", syncOf(events, file.fdPath!, file.exit), r2);
    before("the fsync of its directory", syncOf(events, dirname(file.fdPath!), file.entry), r2);
    const wal2 = writeOf(events, isWal, basename(file.fdPath!));
    assert.ok(wal2, "the row naming the body file was written to the WAL");
    before("the WAL fsync after that row", syncOf(events, wal2.fdPath!, wal2.exit), r2);
  } finally {
    p.close();
    relay.child.kill("SIGKILL");
    if (strace) await exited(strace);
    await exited(relay.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
