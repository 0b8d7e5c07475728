/** Reads an SMTP DATA stream into one Buffer, holding the message in memory once. */
import type { Readable } from "node:stream";

export async function readMessage(
  stream: Readable,
  declaredSize: number,
  limit: number,
): Promise<Buffer | null> {
  // With a declared SIZE the bytes go straight into one allocation; otherwise the
  // chunks are joined once at the end.
  if (declaredSize > 0 && declaredSize <= limit) {
    let buf = Buffer.allocUnsafe(declaredSize);
    let used = 0;
    let over = false;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (over) continue;
      if (used + chunk.length > buf.length) {
        if (used + chunk.length > limit) {
          over = true;
          continue;
        }
        const bigger = Buffer.allocUnsafe(Math.min(limit, Math.max(buf.length * 2, used + chunk.length)));
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      chunk.copy(buf, used);
      used += chunk.length;
    }
    return over ? null : buf.subarray(0, used);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let over = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (over) continue;
    total += chunk.length;
    if (total > limit) {
      over = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(chunk);
  }
  return over ? null : Buffer.concat(chunks, total);
}
