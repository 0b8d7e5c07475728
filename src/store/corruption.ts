/**
 * SQLite's report that the database file is damaged (SQLITE_CORRUPT*,
 * SQLITE_NOTADB), passed to the store's onCorrupt hook from every statement and
 * every batch, so that `serve` can stop and be restarted (docs/operations.md).
 * SQLITE_FULL and I/O errors are not corruption: they are temporary (4xx).
 */
import type { Statement } from "better-sqlite3";

export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
}

/** `stmt` with every method reporting a corruption error to `onCorrupt` before it is thrown. */
export function reportingCorruption(stmt: Statement, onCorrupt: (err: unknown) => void): Statement {
  const wrapped = new Map<PropertyKey, unknown>();
  const proxy: Statement = new Proxy(stmt, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      let w = wrapped.get(prop);
      if (!w) {
        const f = value as (...args: unknown[]) => unknown;
        w = (...args: unknown[]) => {
          try {
            const r = f.apply(target, args);
            // pluck(), raw(), expand() return the statement: keep reporting.
            return r === target ? proxy : r;
          } catch (err) {
            if (isCorruption(err)) onCorrupt(err);
            throw err;
          }
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
  return proxy;
}
