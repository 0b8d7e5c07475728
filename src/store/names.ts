/**
 * Mailbox names and flag lists. Hierarchy delimiter "/". RFC 3501 §5.1: the
 * name INBOX is case-insensitive; "inbox/x" is treated as "INBOX/x" as well.
 */
import { StoreError } from "./types.ts";

export const DELIMITER = "/";
export const INBOX = "INBOX";

/** Canonical form of a name used for lookups. */
export function canonicalName(name: string): string {
  if (name.length === 5 && name.toUpperCase() === INBOX) return INBOX;
  if (name.length > 6 && name.slice(0, 6).toUpperCase() === "INBOX/") return INBOX + name.slice(5);
  return name;
}

/**
 * Canonical name for CREATE/RENAME targets. RFC 3501 §6.3.3: a trailing
 * delimiter only declares the intention to create children and is dropped.
 */
export function newMailboxName(name: string): string {
  let n = name;
  while (n.endsWith(DELIMITER)) n = n.slice(0, -1);
  n = canonicalName(n);
  if (n === "" || n.split(DELIMITER).some((part) => part === "") || n.includes("\0")) {
    throw new StoreError("CANNOT", "invalid mailbox name");
  }
  return n;
}

/** "a/b/c" → ["a", "a/b"]. */
export function superiorNames(name: string): string[] {
  const parts = name.split(DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(DELIMITER));
  return out;
}

export function parseFlags(text: string): string[] {
  return text === "" ? [] : text.split(" ");
}

export function formatFlags(flags: readonly string[]): string {
  return flags.join(" ");
}

/** Flags compare case-insensitively; the first spelling wins, order is kept. */
export function uniqueFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of flags) {
    const k = f.toLowerCase();
    // Stored space-separated: an IMAP flag is an atom and never contains a space.
    if (f === "" || /\s/.test(f) || seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

export function applyFlags(
  current: readonly string[],
  mode: "add" | "remove" | "replace",
  flags: readonly string[],
): string[] {
  if (mode === "replace") return uniqueFlags(flags);
  if (mode === "add") return uniqueFlags([...current, ...flags]);
  const drop = new Set(flags.map((f) => f.toLowerCase()));
  return current.filter((f) => !drop.has(f.toLowerCase()));
}
