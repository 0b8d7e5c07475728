/**
 * Structured logs (pino). Privacy rule: at the default level ("info") nothing ties
 * an IP address or message content to an address. Put such details only into
 * debug/trace records.
 */
import { pino } from "pino";

export type Logger = pino.Logger;

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = pino({ level: "silent" });
