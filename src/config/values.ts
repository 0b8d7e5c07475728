/**
 * Value parsers for chatmail.ini options. Each takes the stripped ini text and
 * returns the value or a short "what is wrong" text (the caller adds
 * `file:line: key: `). Total: no parser throws.
 */
import { isIP } from "node:net";
import { isAbsolute, resolve } from "node:path";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ParseContext {
  /** Folder relative paths are resolved against (the config file's folder). */
  baseDir: string;
}

export type ValueParser<T> = (text: string, ctx: ParseContext) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (what: string, text: string): Parsed<never> => ({
  ok: false,
  error: `expected ${what}, got ${JSON.stringify(text)}`,
});

export const text: ValueParser<string> = (t) => ok(t);

function integer(min: number, what: string, max = Number.MAX_SAFE_INTEGER): ValueParser<number> {
  return (t) => {
    if (!/^\d+$/.test(t)) return fail(what, t);
    const n = Number(t);
    return n >= min && n <= max ? ok(n) : fail(what, t);
  };
}

export const positiveInteger = integer(1, "a positive integer");
export const nonNegativeInteger = integer(0, "a non-negative integer");
/** A listening port: "off" (or -1) turns the listener off, 0 lets the system pick a free port. */
export const listenPort: ValueParser<number> = (t) => {
  if (t.toLowerCase() === "off" || t === "-1") return ok(-1);
  return /^\d+$/.test(t) && Number(t) <= 65535 ? ok(Number(t)) : fail("a port number (0-65535) or off", t);
};
/** A port to connect to. */
export const remotePort = integer(1, "a port number (1-65535)", 65535);

export const positiveNumber: ValueParser<number> = (t) => {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return fail("a positive number", t);
  const n = Number(t);
  return n > 0 ? ok(n) : fail("a positive number", t);
};

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * A size in bytes: a number with an optional binary unit K, M, G or T and an
 * optional B, case-insensitive ("500M", "1G", "50MB", "2 g"); a bare number is bytes.
 */
export function size(min: number): ValueParser<number> {
  const what = "a size such as 500M, 1G or a number of bytes";
  return (t) => {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(b?)$/i.exec(t);
    if (!m) return fail(what, t);
    const unit = m[2]!.toLowerCase();
    if (unit === "" && m[1]!.includes(".")) return fail(what, t);
    const n = Math.floor(Number(m[1]) * UNITS[unit]!);
    if (!Number.isSafeInteger(n) || n < min) return fail(min > 0 ? `${what}, more than 0` : what, t);
    return ok(n);
  };
}

/** `true` or `false`, case-insensitive (the reference relay compares `.lower() == "true"`). */
export const boolean: ValueParser<boolean> = (t) => {
  const l = t.toLowerCase();
  if (l === "true") return ok(true);
  if (l === "false") return ok(false);
  return fail("true or false", t);
};

/** One of the given words; matched case-insensitively, returned as spelled here. */
export function oneOf<T extends string>(...words: T[]): ValueParser<T> {
  return (t) => {
    const found = words.find((w) => w.toLowerCase() === t.toLowerCase());
    return found !== undefined ? ok(found) : fail(`one of ${words.join(", ")}`, t);
  };
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function isDomainName(name: string): boolean {
  return name.length <= 253 && name.split(".").every((label) => LABEL.test(label));
}

/** A domain name (labels may start with "_") or an IPv4 address; lower-cased. */
export const mailDomain: ValueParser<string> = (t) => {
  const d = t.toLowerCase();
  if (isIP(d) === 4 || isDomainName(d)) return ok(d);
  return fail("a domain name or an IPv4 address", t);
};

export const dnsName: ValueParser<string> = (t) =>
  t !== "" && isDomainName(t.toLowerCase()) ? ok(t) : fail("a DNS name such as opendkim", t);

export const ipAddress: ValueParser<string> = (t) =>
  isIP(t) !== 0 ? ok(t) : fail("an IP address such as 0.0.0.0 or ::", t);

/** "" or an http(s) URL. */
export const httpUrl: ValueParser<string> = (t) => {
  if (t === "") return ok(t);
  try {
    const u = new URL(t);
    if (u.protocol === "https:" || u.protocol === "http:") return ok(t);
  } catch {
    // fall through
  }
  return fail("an http:// or https:// URL (or nothing)", t);
};

/** A path; relative paths are resolved against the config file's folder. */
export const path: ValueParser<string> = (t, ctx) =>
  t === "" ? fail("a path", t) : ok(isAbsolute(t) ? t : resolve(ctx.baseDir, t));

/** www_folder: "" (built-in pages), "disabled", or a path. */
export const wwwFolder: ValueParser<string> = (t, ctx) =>
  t === "" || t === "disabled" ? ok(t) : path(t, ctx);

/** tls_external_cert_and_key: "" or "CERT_PATH KEY_PATH". */
export const certAndKey: ValueParser<string> = (t, ctx) => {
  if (t === "") return ok(t);
  const parts = t.split(/\s+/);
  if (parts.length !== 2) return fail('"CERT_PATH KEY_PATH" (two paths separated by a space)', t);
  return ok(parts.map((p) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p))).join(" "));
};

/**
 * dns_servers: IP addresses separated by spaces or commas, each optionally with a
 * port ("192.0.2.1:5353", "[2001:db8::1]:53"), as node:dns setServers takes them.
 */
export const dnsServers: ValueParser<string[]> = (t) => {
  const servers = t.split(/[\s,]+/).filter((s) => s !== "");
  for (const s of servers) {
    const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
    const host = m ? m[1]! : s;
    const port = m ? Number(m[2]) : 53;
    const family = isIP(host);
    const fits = m?.[0].startsWith("[") ? family === 6 : family !== 0;
    if (!fits || port < 1 || port > 65535) {
      return fail("IP addresses with an optional port, separated by spaces or commas", s);
    }
  }
  return ok(servers);
};
