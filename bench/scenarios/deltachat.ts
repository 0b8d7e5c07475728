/**
 * (e) The real Delta Chat core (deltachat-rpc-server) as the client: after a
 * Secure-Join, the round trip A→B→A (B answers as soon as it sees the
 * message) and "send N, receive N" (A sends N messages back to back; the
 * time until B has all of them). Accounts are bots by default, which turns
 * off the core's own send rate limit (about one message per second).
 */
import { type DcServer, DeltaChat, secureJoin } from "../../test/support/deltachat.ts";
import { round1, summarize } from "../load/stats.ts";
import type { Target } from "../target/target.ts";

export interface DeltaChatOptions {
  rounds: number;
  burst: number;
  bursts: number;
  bot: boolean;
  /** Index of the first of the two accounts. */
  offset: number;
}

export async function deltachat(target: Target, o: DeltaChatOptions) {
  if (target.imap.tls === "none" || target.smtp.tls === "none")
    throw new Error("the Delta Chat scenario needs TLS");
  const security = (t: string) => (t === "implicit" ? "ssl" : "starttls") as "ssl" | "starttls";
  const server: DcServer = {
    host: target.imap.host,
    imapPort: target.imap.port,
    smtpPort: target.smtp.port,
    imapSecurity: security(target.imap.tls),
    smtpSecurity: security(target.smtp.tls),
  };
  const dc = await DeltaChat.start();
  try {
    const t0 = performance.now();
    const [a, b] = await Promise.all(
      [0, 1].map((k) => {
        const acc = target.accounts.get(o.offset + k);
        return dc.login(server, acc.user, acc.pass, { bot: o.bot });
      }),
    );
    const configureS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const { inviterChat, joinerChat } = await secureJoin(a!, b!);
    const secureJoinS = (performance.now() - t1) / 1000;

    const pingPong: number[] = [];
    for (let i = 0; i < o.rounds; i++) {
      const ping = `ping ${i}`;
      const pong = `pong ${i}`;
      const t = performance.now();
      const atB = b!.waitForMessage((m) => m.text === ping);
      const back = a!.waitForMessage((m) => m.text === pong);
      await a!.send(inviterChat, ping);
      await atB;
      await b!.send(joinerChat, pong);
      await back;
      pingPong.push(performance.now() - t);
    }

    const bursts: number[] = [];
    for (let k = 0; k < o.bursts; k++) {
      const texts = Array.from({ length: o.burst }, (_, i) => `burst ${k} message ${i}`);
      const wanted = new Set(texts);
      const all = b!.waitForMessages((m) => wanted.has(m.text), texts.length);
      const t = performance.now();
      for (const text of texts) await a!.send(inviterChat, text);
      await all;
      bursts.push(performance.now() - t);
    }
    return {
      params: o,
      configureS: round1(configureS),
      secureJoinS: round1(secureJoinS),
      pingPongMs: summarize(pingPong),
      sendReceiveBurstMs: summarize(bursts),
    };
  } finally {
    await dc.close();
  }
}
