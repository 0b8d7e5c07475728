/**
 * Reads an SMTP DATA stream into one Buffer, holding the message in memory
 * once, within the relay-wide body budget (src/net/body-budget.ts). The stream
 * is always read to its end so the session stays in step with the client.
 */
import type { Readable } from "node:stream";
import type { BodyReservation } from "../net/body-budget.ts";

export type ReadResult =
  | { kind: "message"; message: Buffer }
  /** Larger than the limit (permanent, 552). */
  | { kind: "too-big" }
  /** The body budget is used up (temporary, 452). */
  | { kind: "no-memory" };

export async function readMessage(
  stream: Readable,
  declaredSize: number,
  limit: number,
  reservation: BodyReservation,
): Promise<ReadResult> {
  let failed: ReadResult | null = null;
  // With a declared SIZE the bytes go straight into one allocation (reserved up
  // front, since it is allocated up front); otherwise the chunks are joined once at the end.
  if (declaredSize > 0 && declaredSize <= limit) {
    if (!reservation.add(declaredSize)) failed = { kind: "no-memory" };
    let buf = failed ? Buffer.alloc(0) : Buffer.allocUnsafe(declaredSize);
    let used = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (failed) continue;
      if (used + chunk.length > buf.length) {
        if (used + chunk.length > limit) {
          failed = { kind: "too-big" };
          continue;
        }
        const size = Math.min(limit, Math.max(buf.length * 2, used + chunk.length));
        if (!reservation.add(size - buf.length)) {
          failed = { kind: "no-memory" };
          continue;
        }
        const bigger = Buffer.allocUnsafe(size);
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      chunk.copy(buf, used);
      used += chunk.length;
    }
    return failed ?? { kind: "message", message: buf.subarray(0, used) };
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (failed) continue;
    total += chunk.length;
    if (total > limit) failed = { kind: "too-big" };
    else if (!reservation.add(chunk.length)) failed = { kind: "no-memory" };
    if (failed) chunks.length = 0;
    else chunks.push(chunk);
  }
  return failed ?? { kind: "message", message: Buffer.concat(chunks, total) };
}
