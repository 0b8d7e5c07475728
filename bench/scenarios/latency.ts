/**
 * (a) Submit-to-EXISTS latency: N receivers sit in IDLE; closed-loop senders
 * each submit one message at a time (on an open, authenticated connection) to
 * a random receiver with nothing in flight. Measured: from MAIL FROM to the
 * receiver's "* n EXISTS" (submit-to-EXISTS), and from the 250 after DATA to
 * the EXISTS (negative when the EXISTS overtakes the 250, as it does when a
 * server announces the message before it answers).
 */
import { MessageFactory } from "../load/payload.ts";
import { round1, seededRandom, sleep, summarize, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";
import { closeAll, openReceivers, openSenders, type Receiver } from "./common.ts";

export interface LatencyOptions {
  receivers: number;
  senders: number;
  messages: number;
  warmup: number;
  size: number;
  existsTimeoutMs: number;
  seed: number;
}

interface Waiting {
  expected: number;
  resolve: (t: number) => void;
  reject: (e: Error) => void;
}

/** Called around the measured part (e.g. to profile only that). */
export interface MeasureHooks {
  measureStart(): void;
  measureEnd(): Promise<void>;
}

export async function latency(target: Target, o: LatencyOptions, hooks?: MeasureHooks) {
  const factory = new MessageFactory(o.size);
  const rand = seededRandom(o.seed);
  const t0Setup = performance.now();
  const receivers = await openReceivers(target, 0, o.receivers);
  const senders = await openSenders(target, o.receivers, o.senders);
  const setupS = (performance.now() - t0Setup) / 1000;
  const waiting = new Map<Receiver, Waiting>();
  for (const r of receivers) {
    r.conn.onExists = (n, t) => {
      const w = waiting.get(r);
      if (w && n >= w.expected) {
        waiting.delete(r);
        w.resolve(t);
      }
    };
    r.conn.onClose = (err) => {
      const w = waiting.get(r);
      waiting.delete(r);
      w?.reject(err);
    };
  }
  const free = receivers.slice();
  const lat: number[] = [];
  const after250: number[] = [];
  const submit: number[] = [];
  const errors: Record<string, number> = {};
  let failures = 0;
  let lost = 0;
  const one = async (sender: (typeof senders)[number], measure: boolean) => {
    while (!free.length) await sleep(1);
    const r = free.splice(Math.floor(rand() * free.length), 1)[0]!;
    const expected = r.conn.exists + 1;
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<number>((resolve, reject) => {
      waiting.set(r, { expected, resolve, reject });
      timer = setTimeout(() => {
        if (waiting.delete(r)) reject(new Error("EXISTS timeout"));
      }, o.existsTimeoutMs);
    });
    seen.catch(() => {});
    let sent: Awaited<ReturnType<typeof sender.send>>;
    try {
      sent = await sender.send(r.addr, factory.make(sender.account.user, r.addr));
    } catch (e) {
      clearTimeout(timer);
      waiting.delete(r);
      failures++;
      tally(errors, e);
      free.push(r);
      return;
    }
    try {
      const tSeen = await seen;
      if (measure) {
        lat.push(tSeen - sent.tStart);
        after250.push(tSeen - sent.tAccepted);
        submit.push(sent.tAccepted - sent.tStart);
      }
      free.push(r);
    } catch (e) {
      lost++;
      tally(errors, e);
      // not reused: a late EXISTS would be attributed to the next message
    } finally {
      clearTimeout(timer);
    }
  };
  for (let i = 0; i < o.warmup; i++) await one(senders[i % senders.length]!, false);
  hooks?.measureStart();
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(
    senders.map(async (s) => {
      while (issued < o.messages) {
        issued++;
        await one(s, true);
      }
    }),
  );
  const durationS = (performance.now() - t0) / 1000;
  await hooks?.measureEnd();
  closeAll(receivers, senders);
  return {
    params: o,
    submitToExistsMs: summarize(lat),
    after250Ms: summarize(after250),
    submitMs: summarize(submit),
    measured: lat.length,
    failures,
    lost,
    errors,
    setupS: round1(setupS),
    durationS: round1(durationS),
  };
}
