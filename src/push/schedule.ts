/**
 * When push notifications are retried and when they are given up, as the
 * reference relay's notifier (docs/reference-relay.md §2.4, §6): tries at 0, then 8 s, 64 s,
 * 512 s and 4096 s after each failure (8^n), and never past 5 hours after the
 * first try. Device tokens count for 90 days after their last SETMETADATA.
 */

/** Delays after the 1st, 2nd, 3rd and 4th failed try, in milliseconds. */
export const RETRY_DELAYS_MS = [8_000, 64_000, 512_000, 4_096_000] as const;

/** A notification is dropped when its next try would fall past this (DROP_DEADLINE). */
export const DROP_DEADLINE_MS = 5 * 3600 * 1000;

/** Tokens not refreshed within this are ignored (and not notified). */
export const TOKEN_VALIDITY_SECONDS = 90 * 24 * 3600;

/**
 * Push tokens kept per account; a new one beyond this drops the least recently
 * set. Delta Chat registers one token per device, so a person has a few; the
 * cap bounds the store and the push requests one delivery can cause.
 */
export const MAX_TOKENS_PER_ACCOUNT = 16;

/** Tokens dated more than this into the future are not valid either (clock skew). */
export const TOKEN_FUTURE_SLACK_SECONDS = 60;

/**
 * The time of the next try after `failures` failed tries (1 = the first try
 * failed), or undefined when the notification is to be dropped.
 */
export function nextTry(failures: number, firstTryMs: number, nowMs: number): number | undefined {
  const delay = RETRY_DELAYS_MS[failures - 1];
  if (delay === undefined) return undefined;
  const at = nowMs + delay;
  return at > firstTryMs + DROP_DEADLINE_MS ? undefined : at;
}

export function tokenIsValid(updatedAtSeconds: number, nowMs: number): boolean {
  const now = nowMs / 1000;
  return (
    updatedAtSeconds > now - TOKEN_VALIDITY_SECONDS && updatedAtSeconds <= now + TOKEN_FUTURE_SLACK_SECONDS
  );
}
