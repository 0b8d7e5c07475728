/**
 * Out of disk space, as the store reports it: a `StoreError` with code "FULL".
 *
 * The file system says ENOSPC (or EDQUOT under a file-system quota) when a body
 * file is written; SQLite says SQLITE_FULL when the WAL cannot grow at commit.
 * Both are temporary: nothing was stored (a failed body write leaves no file, a
 * commit that failed with SQLITE_FULL was rolled back: a commit is the record
 * appended to the WAL last, https://www.sqlite.org/wal.html), and the same
 * write succeeds once space returns. The protocols answer with a temporary
 * refusal: SMTP 452 4.3.1 (RFC 5321 §4.2.3, RFC 3463 §3.5 "mail system full"), IMAP
 * NO [UNAVAILABLE] (RFC 5530 §3). Not [OVERQUOTA]: that is the user's own quota,
 * which the client shows as "your mailbox is full".
 */
import { StoreError } from "./types.ts";

const FS_CODES = new Set(["ENOSPC", "EDQUOT"]);

/** Whether `err` reports that the disk (or the database) is out of space. */
export function isOutOfSpace(err: unknown): boolean {
  if (err instanceof StoreError) return err.code === "FULL";
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (FS_CODES.has(code) || code === "SQLITE_FULL");
}

/** `err`, or a StoreError "FULL" in its place when it reports a full disk. */
export function asStoreError(err: unknown): unknown {
  if (err instanceof StoreError || !isOutOfSpace(err)) return err;
  return new StoreError("FULL", "Insufficient storage on the server, try again later");
}
