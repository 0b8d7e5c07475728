/**
 * Federation: submit-to-EXISTS latency across two chatrelays with different
 * domains (each in its own child process, on 127.0.0.2 and 127.0.0.3, names
 * from a DNS server on loopback): senders submit to A, receivers idle on B.
 * Once over HTTPS /mxdeliv, once over SMTP (HTTPS listeners off).
 *
 * Then the throughput scenario's load (8 senders, messages counted by EXISTS at
 * the receivers) on the same pair, on A alone ("local": the yardstick, half of
 * which the federation should reach), and between two Postfix instances
 * (../federation-postfix.ts, counted at delivery into B's mailboxes) when this
 * machine can run them; one after another in the same run.
 */
import { createPublicKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dkimTxtRecord } from "../../src/dkim/keys.ts";
import { startDnsServer } from "../../test/support/dns-server.ts";
import { commonFreePort } from "../../test/support/ports.ts";
import { patternAccounts } from "../load/accounts.ts";
import { serverMemory } from "../load/procmem.ts";
import { type ChatrelayChild, startChatrelay } from "../target/chatrelay.ts";
import type { Target } from "../target/target.ts";
import { latency } from "./latency.ts";
import { throughput } from "./throughput.ts";

export interface FederationOptions {
  receivers: number;
  senders: number;
  messages: number;
  size: number;
  existsTimeoutMs: number;
  seed: number;
  /** Messages of each throughput run (default 1000). */
  throughputMessages?: number;
}

type Channel = "https" | "smtp" | "local";

const A = { domain: "_alpha.bench", ip: "127.0.0.2" };
const B = { domain: "_beta.bench", ip: "127.0.0.3" };
const PATTERN = "f%08d";
const PASSWORD = "benchpass";

const tpOptions = (o: FederationOptions) => ({
  receivers: o.receivers,
  senders: 8,
  messages: o.throughputMessages ?? 1000,
  size: o.size,
  lateMs: 1000,
  drainTimeoutMs: 30_000,
  seed: o.seed,
});

async function run(channel: Channel, o: FederationOptions) {
  const dns = await startDnsServer({
    [A.domain]: { A: [A.ip], MX: [{ exchange: A.domain, priority: 10 }] },
    [B.domain]: { A: [B.ip], MX: [{ exchange: B.domain, priority: 10 }] },
  });
  const ports = { https: await commonFreePort([A.ip, B.ip]), smtp: await commonFreePort([A.ip, B.ip]) };
  const children: ChatrelayChild[] = [];
  try {
    for (const side of channel === "local" ? [A] : [A, B]) {
      const child = await startChatrelay({
        accounts: o.receivers + o.senders,
        pattern: PATTERN,
        start: 1,
        domain: side.domain,
        password: PASSWORD,
        config: {
          listen_address: side.ip,
          dns_servers: [dns.address],
          https_port: channel === "https" ? ports.https : -1,
          smtp_port: ports.smtp,
          outbound_https_port: ports.https,
          outbound_smtp_port: ports.smtp,
        },
      });
      children.push(child);
      const pem = readFileSync(join(child.dataDir, "dkim", "opendkim.private"), "utf8");
      const pub = createPublicKey(pem).export({ type: "spki", format: "pem" }).toString();
      dns.zone.set(`opendkim._domainkey.${side.domain}`, { TXT: [dkimTxtRecord(pub)] });
    }
    const a = children[0]!;
    // "local": receivers on A too
    const b = children[1] ?? a;
    const onA = patternAccounts(PATTERN, 1, A.domain, PASSWORD);
    const onB = patternAccounts(PATTERN, 1, channel === "local" ? A.domain : B.domain, PASSWORD);
    const target: Target = {
      name: `federation-${channel}`,
      imap: { host: b.host, port: b.ports.imaps!, tls: "implicit" },
      smtp: { host: A.ip, port: a.ports.submissions!, tls: "implicit" },
      // receivers (0..N-1) live on B, senders (N..) on A
      accounts: {
        describe: "f%08d on both",
        count: Number.POSITIVE_INFINITY,
        get: (i) => (i < o.receivers ? onB.get(i) : onA.get(i)),
      },
      memory: () => serverMemory([...new Set([a.pid, b.pid])], []),
      gc: async () => undefined,
      describe:
        channel === "local" ? `A ${A.domain} to itself` : `A ${A.domain} → B ${B.domain} over ${channel}`,
      close: async () => {},
    };
    if (channel === "local") return { throughput: await throughput(target, tpOptions(o)) };
    const lat = await latency(target, { ...o, warmup: 5 });
    return { ...lat, throughput: await throughput(target, tpOptions(o)) };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await dns.close();
  }
}

/** Postfix → Postfix with the throughput load, or why not. */
async function postfixPair(o: FederationOptions) {
  if (!existsSync("/usr/sbin/postfix") || process.getuid?.() !== 0)
    return { skipped: "needs root and Debian's postfix (test/interop/postfix-harness.ts)" };
  const { runPostfixPair } = await import("../federation-postfix.ts");
  const t = tpOptions(o);
  const r = await runPostfixPair({ ...t, channels: [], timeoutMs: 120_000, peer: "postfix", rounds: 1 });
  return { throughput: { msgsPerSec: r.perSecond, submitMsgsPerSec: r.submittedPerSecond, ...r } };
}

export async function federation(o: FederationOptions) {
  return {
    https: await run("https", o),
    smtp: await run("smtp", o),
    local: await run("local", o),
    postfix: await postfixPair(o),
  };
}
