/**
 * Small message bodies live inside SQLite, in the table `bodies` (migration 3),
 * written by the same group-commit transaction as the rows that refer to them:
 * a batch of small messages is durable with the one WAL fsync of its commit,
 * where a body file costs a file fsync and a directory fsync besides
 * (blob-files.ts). Bodies above INLINE_MAX_BYTES stay files: every byte
 * written to the WAL is written again by the checkpoint into the database file,
 * and a large body would make the synchronous commit (on the event loop) long.
 *
 * An inline body's id is "i-" and 32 random hex digits; a file's id starts
 * with a digit (blob-files.ts). Ids are random and never reused, so a record
 * read before an expunge never finds another message's body afterwards.
 * A body is deleted in the transaction that deletes its last reference (core.ts).
 */
import { randomBytes } from "node:crypto";

/**
 * The largest body stored inline, in octets. Measured with bench/store.ts
 * (docs/benchmarks.md, "Fewer fsyncs per message"): inline was ahead of body files
 * up to 128 KiB and behind at 256 KiB; 64 KiB bounds the bytes a batch's commit
 * writes on the event loop (1 MiB for 16 writers) and covers chat text messages.
 */
export const INLINE_MAX_BYTES = 64 * 1024;

const INLINE_ID = /^i-[0-9a-f]{32}$/;

export function newInlineId(): string {
  return `i-${randomBytes(16).toString("hex")}`;
}

export function isInlineId(id: string): boolean {
  return INLINE_ID.test(id);
}
