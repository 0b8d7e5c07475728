/**
 * Federation: submit-to-EXISTS latency across two chatrelays with different
 * domains (each in its own child process, on 127.0.0.2 and 127.0.0.3, names
 * from a DNS server on loopback): senders submit to A, receivers idle on B.
 * Once over HTTPS /mxdeliv, once over SMTP (HTTPS listeners off).
 */
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dkimTxtRecord } from "../../src/dkim/keys.ts";
import { startDnsServer } from "../../test/support/dns-server.ts";
import { commonFreePort } from "../../test/support/ports.ts";
import { patternAccounts } from "../load/accounts.ts";
import { serverMemory } from "../load/procmem.ts";
import { type ChatrelayChild, startChatrelay } from "../target/chatrelay.ts";
import type { Target } from "../target/target.ts";
import { latency } from "./latency.ts";

export interface FederationOptions {
  receivers: number;
  senders: number;
  messages: number;
  size: number;
  existsTimeoutMs: number;
  seed: number;
}

const A = { domain: "_alpha.bench", ip: "127.0.0.2" };
const B = { domain: "_beta.bench", ip: "127.0.0.3" };
const PATTERN = "f%08d";
const PASSWORD = "benchpass";

async function run(channel: "https" | "smtp", o: FederationOptions) {
  const dns = await startDnsServer({
    [A.domain]: { A: [A.ip], MX: [{ exchange: A.domain, priority: 10 }] },
    [B.domain]: { A: [B.ip], MX: [{ exchange: B.domain, priority: 10 }] },
  });
  const ports = { https: await commonFreePort([A.ip, B.ip]), smtp: await commonFreePort([A.ip, B.ip]) };
  const children: ChatrelayChild[] = [];
  try {
    for (const side of [A, B]) {
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
    const [a, b] = children as [ChatrelayChild, ChatrelayChild];
    const onA = patternAccounts(PATTERN, 1, A.domain, PASSWORD);
    const onB = patternAccounts(PATTERN, 1, B.domain, PASSWORD);
    const target: Target = {
      name: `federation-${channel}`,
      imap: { host: B.ip, port: b.ports.imaps!, tls: "implicit" },
      smtp: { host: A.ip, port: a.ports.submissions!, tls: "implicit" },
      // receivers (0..N-1) live on B, senders (N..) on A
      accounts: {
        describe: "f%08d on both",
        count: Number.POSITIVE_INFINITY,
        get: (i) => (i < o.receivers ? onB.get(i) : onA.get(i)),
      },
      memory: () => serverMemory([a.pid, b.pid], []),
      gc: async () => undefined,
      describe: `A ${A.domain} → B ${B.domain} over ${channel}`,
      close: async () => {},
    };
    return await latency(target, { ...o, warmup: 5 });
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await dns.close();
  }
}

export async function federation(o: FederationOptions) {
  return { https: await run("https", o), smtp: await run("smtp", o) };
}
