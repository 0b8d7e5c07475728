/**
 * Federation throughput of Debian's Postfix, as the yardstick for bench/federation.ts:
 * two Postfix instances on loopback (A _alpha.bench on 127.0.0.2 with an opendkim
 * signing milter, B _beta.bench on 127.0.0.3), set up by test/interop/postfix-harness.ts.
 * The same senders submit the same messages to A over SMTP with STARTTLS (no AUTH:
 * A relays for 127/8); A relays everything to B over SMTP with mandatory TLS
 * (Postfix's default concurrency and connection cache); B delivers to one mbox per
 * receiver. The clock runs until B's log says the last one was delivered.
 *
 * Needs root and the Debian packages of postfix-harness.ts (APT_PACKAGES there).
 */
import { chmodSync, closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import {
  makePki,
  type Opendkim,
  type Postfix,
  requireTools,
  startOpendkim,
  startPostfix,
} from "../test/interop/postfix-harness.ts";
import { commonFreePort } from "../test/support/ports.ts";
import { type ChannelResult, type FederationBenchOptions, submitAll } from "./federation.ts";
import { MessageFactory } from "./load/payload.ts";
import { summarize } from "./load/stats.ts";

const A = { domain: "_alpha.bench", ip: "127.0.0.2" };
const B = { domain: "_beta.bench", ip: "127.0.0.3" };

async function otherPort(host: string, taken: number): Promise<number> {
  for (;;) {
    const p = await commonFreePort([host]);
    if (p !== taken) return p;
  }
}

/** One SMTP connection with STARTTLS to A, reused for every message of a sender. */
async function openSender(port: number): Promise<SMTPConnection> {
  const conn = new SMTPConnection({
    host: A.ip,
    port,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    name: "bench-client.invalid",
    socketTimeout: 120_000,
  });
  await new Promise<void>((resolve, reject) => {
    conn.once("error", reject);
    conn.connect(() => {
      conn.off("error", reject);
      resolve();
    });
  });
  conn.on("error", () => {});
  return conn;
}

function send(conn: SMTPConnection, from: string, to: string, raw: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    conn.send({ from, to: [to] }, raw, (err) => (err ? reject(err) : resolve())),
  );
}

/** Calls `onLine` for each line appended to `file`, every 20 ms, until stopped. */
function tail(file: string, onLine: (line: string) => void): () => void {
  let offset = 0;
  let rest = "";
  const buf = Buffer.alloc(1 << 16);
  const poll = () => {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return;
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        const lines = (rest + buf.subarray(0, n).toString("utf8")).split("\n");
        rest = lines.pop() ?? "";
        for (const l of lines) onLine(l);
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(poll, 20);
  return () => {
    clearInterval(timer);
    poll();
  };
}

export async function runPostfixPair(o: Required<FederationBenchOptions>): Promise<ChannelResult> {
  requireTools();
  const tmp = mkdtempSync(join(tmpdir(), "chatrelay-bench-postfix-"));
  // Postfix's processes run as the postfix user and must get through to their folders
  chmodSync(tmp, 0o755);
  const receivers = Array.from({ length: o.receivers }, (_, i) => `r${String(i + 1).padStart(8, "0")}`);
  const started: Array<Postfix | Opendkim> = [];
  const senders: SMTPConnection[] = [];
  let stopTail = () => {};
  try {
    const pkiA = await makePki(join(tmp, "pki-a"), A.domain);
    const pkiB = await makePki(join(tmp, "pki-b"), B.domain);
    const port = await commonFreePort([A.ip, B.ip]);
    const opendkim = await startOpendkim(join(tmp, "opendkim"), {
      domain: A.domain,
      selector: "opendkim",
      host: A.ip,
      port: await otherPort(A.ip, port),
    });
    started.push(opendkim);
    const b = await startPostfix({
      dir: join(tmp, "b"),
      host: B.ip,
      port,
      hostname: B.domain,
      domain: B.domain,
      mailboxes: receivers,
      tls: { certFile: pkiB.certFile, keyFile: pkiB.keyFile },
      relayhost: `[${A.ip}]:${port}`,
    });
    started.push(b);
    const a = await startPostfix({
      dir: join(tmp, "a"),
      host: A.ip,
      port,
      hostname: A.domain,
      domain: A.domain,
      mailboxes: ["postmaster"],
      tls: { certFile: pkiA.certFile, keyFile: pkiA.keyFile },
      relayhost: `[${B.ip}]:${port}`,
      milter: opendkim.milter,
    });
    started.push(a);
    for (let j = 0; j < o.senders; j++) senders.push(await openSender(port));

    const submittedAt = new Map<string, number[]>(receivers.map((r) => [`${r}@${B.domain}`, []]));
    const latencies: number[] = [];
    let arrived = 0;
    let allArrived: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    // "to=<r…@_beta.bench>, relay=virtual, … status=sent (delivered to mailbox)"
    stopTail = tail(join(tmp, "b", "maillog"), (line) => {
      const m = /\bto=<([^>]+)>.*\brelay=virtual\b.*\bstatus=sent\b/.exec(line);
      if (!m) return;
      const t = submittedAt.get(m[1]!)?.shift();
      if (t !== undefined) latencies.push(performance.now() - t);
      if (++arrived >= o.messages) allArrived();
    });
    const factory = new MessageFactory(o.size);
    const to = receivers.map((r) => `${r}@${B.domain}`);
    const sends = senders.map((conn, j) => {
      const from = `s${String(j + 1).padStart(8, "0")}@${A.domain}`;
      return (rcpt: string) => send(conn, from, rcpt, factory.make(from, rcpt));
    });
    const run = await submitAll(sends, to, o, submittedAt, done, () => arrived);
    return {
      channel: "postfix",
      ...run,
      latencyMs: summarize(latencies),
      // Postfix's CPU is in other processes: not comparable with the relay's own
      cpuMsPerMessage: Number.NaN,
      leftInQueue: o.messages - run.arrived,
    };
  } finally {
    stopTail();
    for (const s of senders) s.close();
    for (const p of started.reverse()) await p.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
