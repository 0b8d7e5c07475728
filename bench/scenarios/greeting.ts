/**
 * (g) Sequential connections to the submission port: connect (and TLS, for
 * implicit TLS) until the server's "220" greeting line, then QUIT. Shows the
 * cost of a session's first round trip, greeting delays included.
 */
import net from "node:net";
import tls from "node:tls";
import type { SmtpEndpoint } from "../load/smtp.ts";
import { round1, summarize, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";

export interface GreetingOptions {
  count: number;
}

function greet(ep: SmtpEndpoint): Promise<{ tlsMs?: number; greetingMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let tlsMs: number | undefined;
    const socket =
      ep.tls === "implicit"
        ? tls.connect(
            { host: ep.host, port: ep.port, servername: ep.servername, rejectUnauthorized: !!ep.verify },
            () => {
              tlsMs = performance.now() - t0;
            },
          )
        : net.connect({ host: ep.host, port: ep.port });
    let text = "";
    const timer = setTimeout(() => socket.destroy(new Error("no greeting in 10 s")), 10_000);
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (!text.includes("\r\n")) return;
      const greetingMs = performance.now() - t0;
      clearTimeout(timer);
      if (!text.startsWith("220")) reject(new Error(`greeting: ${text.trim()}`));
      else resolve({ tlsMs, greetingMs });
      socket.end("QUIT\r\n");
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function greeting(target: Target, o: GreetingOptions) {
  const greetingMs: number[] = [];
  const tlsMs: number[] = [];
  const errors: Record<string, number> = {};
  let failures = 0;
  const t0 = performance.now();
  for (let i = 0; i < o.count; i++) {
    try {
      const r = await greet(target.smtp);
      greetingMs.push(r.greetingMs);
      if (r.tlsMs !== undefined) tlsMs.push(r.tlsMs);
    } catch (e) {
      failures++;
      tally(errors, e);
    }
  }
  return {
    params: { ...o, port: target.smtp.port, tls: target.smtp.tls },
    connectToGreetingMs: summarize(greetingMs),
    tlsHandshakeMs: summarize(tlsMs),
    failures,
    errors,
    durationS: round1((performance.now() - t0) / 1000),
  };
}
