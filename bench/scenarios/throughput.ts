/**
 * (b) Sustained throughput: M senders submit K messages as fast as they can to
 * N receivers in IDLE; msgs/s from the first submit until every accepted
 * message was announced by EXISTS. Late (announced more than late-ms after its
 * 250) and lost (never announced) notifications are counted.
 */
import { MessageFactory } from "../load/payload.ts";
import { round1, seededRandom, summarize, tally } from "../load/stats.ts";
import type { Target } from "../target/target.ts";
import { closeAll, openReceivers, openSenders } from "./common.ts";
import type { MeasureHooks } from "./latency.ts";

export interface ThroughputOptions {
  receivers: number;
  senders: number;
  messages: number;
  size: number;
  lateMs: number;
  drainTimeoutMs: number;
  seed: number;
}

export async function throughput(target: Target, o: ThroughputOptions, hooks?: MeasureHooks) {
  const factory = new MessageFactory(o.size);
  const rand = seededRandom(o.seed);
  const receivers = await openReceivers(target, 0, o.receivers);
  const senders = await openSenders(target, o.receivers, o.senders);
  const state = receivers.map(() => ({ seen: 0, matched: 0, accepted: [] as number[] }));
  const lat: number[] = [];
  const submit: number[] = [];
  const errors: Record<string, number> = {};
  let totalSeen = 0;
  let accepted = 0;
  let failures = 0;
  let lastExists = 0;
  let lastAccept = 0;
  let onProgress = () => {};
  // EXISTS and 250s of one receiver are matched in order: the k-th EXISTS announces the k-th accepted
  // message; an EXISTS that overtook its 250 counts as 0 ms
  const match = (i: number, t: number) => {
    const st = state[i]!;
    while (st.matched < st.seen && st.matched < st.accepted.length)
      lat.push(Math.max(0, t - st.accepted[st.matched++]!));
  };
  receivers.forEach((r, i) => {
    r.conn.onExists = (n, t) => {
      const seen = n - r.base;
      const st = state[i]!;
      if (seen > st.seen) {
        totalSeen += seen - st.seen;
        st.seen = seen;
        lastExists = t;
        match(i, t);
        onProgress();
      }
    };
    r.conn.onClose = (e) => tally(errors, new Error(`receiver closed: ${e.message}`));
  });
  const plan = Array.from({ length: o.messages }, () => Math.floor(rand() * receivers.length));
  hooks?.measureStart();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    senders.map(async (s) => {
      while (next < o.messages) {
        const k = next++;
        const ri = plan[k]!;
        try {
          const res = await s.send(receivers[ri]!.addr, factory.make(s.account.user, receivers[ri]!.addr));
          accepted++;
          lastAccept = res.tAccepted;
          submit.push(res.tAccepted - res.tStart);
          state[ri]!.accepted.push(res.tAccepted);
          match(ri, receivers[ri]!.conn.existsAt);
        } catch (e) {
          failures++;
          tally(errors, e);
        }
      }
    }),
  );
  const tSubmitted = performance.now();
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(resolve, o.drainTimeoutMs);
    };
    onProgress = () => {
      if (totalSeen >= accepted) {
        clearTimeout(timer);
        resolve();
      } else arm();
    };
    arm();
    onProgress();
  });
  const tEnd = totalSeen >= accepted ? lastExists : performance.now();
  await hooks?.measureEnd();
  closeAll(receivers, senders);
  const durationS = (tEnd - t0) / 1000;
  return {
    params: o,
    msgsPerSec: round1(accepted / durationS),
    submitMsgsPerSec: round1(accepted / ((lastAccept - t0) / 1000)),
    accepted,
    failures,
    seen: totalSeen,
    lost: accepted - Math.min(totalSeen, accepted),
    late: lat.filter((x) => x > o.lateMs).length,
    durationS: round1(durationS),
    drainAfterSubmitS: round1((tEnd - tSubmitted) / 1000),
    submitMs: summarize(submit),
    existsAfter250Ms: summarize(lat),
    errors,
  };
}
