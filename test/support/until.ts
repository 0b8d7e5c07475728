/** Polling for a condition with its own deadline, for tests that wait on state no event announces. */

/** Polls `f` until it gives a value; the error names `what` and, if given, `detail()`. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  detail?: () => string,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
