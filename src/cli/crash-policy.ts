/**
 * The process-level crash policy of `chatrelay serve` (docs/operations.md):
 * a peer's input can never end the process; a programming error that escapes
 * every handler (an unhandled rejection, an exception thrown in a callback) is
 * logged at error level with its stack and counted, and the relay keeps serving
 * the other users. Only a damaged database ends the process, with a non-zero
 * status, so that the service manager restarts it.
 */
import type { Logger } from "../log.ts";
import { isCorruption } from "../store/corruption.ts";

export interface CrashPolicy {
  /** Unexpected errors survived so far. */
  readonly faults: number;
  /** Logs the damaged database and exits (status 1). */
  storeCorrupt(err: unknown): never;
}

/**
 * What is logged of an error: its class, code, message and stack, nothing else
 * (pino's default serializer would add every property, such as an SMTP reply
 * naming a recipient).
 */
export function errorContext(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err).slice(0, 200) };
  const code = (err as { code?: unknown }).code;
  return {
    type: err.constructor.name,
    ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
    message: err.message,
    stack: err.stack,
  };
}

export function installCrashPolicy(log: Logger): CrashPolicy {
  let faults = 0;
  const storeCorrupt = (err: unknown): never => {
    log.fatal({ error: errorContext(err) }, "the database is damaged: stopping so that the service restarts");
    process.exit(1);
  };
  const survive = (origin: string) => (err: unknown) => {
    if (isCorruption(err)) storeCorrupt(err);
    faults++;
    log.error({ error: errorContext(err), origin, faults }, "unexpected error; still serving");
  };
  process.on("unhandledRejection", survive("unhandledRejection"));
  process.on("uncaughtException", survive("uncaughtException"));
  return {
    get faults() {
      return faults;
    },
    storeCorrupt,
  };
}

/**
 * Test hook (CHATRELAY_TEST_FAULT=1): shortly after start-up, one promise is
 * rejected without a handler and one timer callback throws, as a programming
 * error would.
 */
export function injectTestFaults(): void {
  if (process.env.CHATRELAY_TEST_FAULT !== "1") return;
  setTimeout(() => {
    void Promise.reject(new Error("injected fault: unhandled rejection"));
    setTimeout(() => {
      throw new Error("injected fault: thrown in a timer");
    }, 10);
  }, 50);
}
