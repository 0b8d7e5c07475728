/** Benchmark accounts: from a pattern (u%05d@domain, one password) or from a file. */
import { readFileSync } from "node:fs";
import type { Account } from "./smtp.ts";

export interface AccountSource {
  describe: string;
  count: number;
  get(i: number): Account;
}

export function formatPattern(pattern: string, n: number): string {
  return pattern.replace(/%(0?)(\d*)d/, (_m, zero: string, width: string) => {
    const s = String(n);
    const w = Number(width || 0);
    return s.length >= w ? s : (zero ? "0" : " ").repeat(w - s.length) + s;
  });
}

export function patternAccounts(pattern: string, start: number, domain: string, pass: string): AccountSource {
  return {
    describe: `pattern ${pattern}@${domain} from ${start}`,
    count: Number.POSITIVE_INFINITY,
    get: (i) => ({ user: `${formatPattern(pattern, start + i)}@${domain}`, pass }),
  };
}

export function fileAccounts(path: string): AccountSource {
  const list = readFileSync(path, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const m = /^(\S+?)(?::|\s+)(.*)$/.exec(l);
      if (!m) throw new Error(`bad account line: ${l}`);
      return { user: m[1]!, pass: m[2]! };
    });
  return {
    describe: `file ${path} (${list.length})`,
    count: list.length,
    get(i) {
      const a = list[i];
      if (!a) throw new Error(`account #${i + 1} needed, the file has ${list.length}`);
      return a;
    },
  };
}
