/**
 * chatmail.ini → Config. Only the `[params]` section is read (plus `[DEFAULT]`,
 * whose values configparser hands to every section). Errors name the place:
 * `file:line: key: what is wrong`; options that have no effect give warnings
 * in the same form.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_SECTION, type IniEntry, IniSyntaxError, parseIni, pyStrip } from "./ini.ts";
import { type ConfigKey, defaultConfig, defaultOf, IGNORED_KEYS, SCHEMA } from "./schema.ts";
import type { Config } from "./types.ts";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(message);
  }
}

export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

const PARAMS = "params";

function place(source: string, line: number, key?: string): string {
  return key === undefined ? `${source}:${line}:` : `${source}:${line}: ${key}:`;
}

function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(SCHEMA, key);
}

/**
 * Parse the text of a chatmail.ini. `source` names the file in messages;
 * relative paths in the file resolve against `baseDir` (default: the folder of
 * `source`). Throws ConfigError.
 */
export function parseConfig(text: string, source: string, baseDir = dirname(resolve(source))): LoadedConfig {
  const doc = parseIni(text);
  if (doc instanceof IniSyntaxError) {
    throw new ConfigError(`${place(source, doc.line, doc.key)} ${doc.reason}`, source, doc.line, doc.key);
  }
  const warnings: string[] = [];
  for (const [name, line] of doc.sectionLines) {
    if (name !== PARAMS && name !== DEFAULT_SECTION) {
      warnings.push(`${place(source, line)} [${name}]: unknown section, ignored`);
    }
  }
  const params = doc.sections.get(PARAMS);
  if (params === undefined) throw new ConfigError(`${source}: missing [${PARAMS}] section`, source);

  const entries = new Map<string, IniEntry>([...(doc.sections.get(DEFAULT_SECTION) ?? []), ...params]);
  const given: Partial<Record<ConfigKey, unknown>> = {};
  const lines: Partial<Record<ConfigKey, number>> = {};
  const ctx = { baseDir };
  for (const [key, entry] of [...entries].sort((a, b) => a[1].line - b[1].line)) {
    if (isConfigKey(key)) {
      const parsed = SCHEMA[key].parse(pyStrip(entry.value), ctx);
      if (!parsed.ok) {
        throw new ConfigError(`${place(source, entry.line, key)} ${parsed.error}`, source, entry.line, key);
      }
      given[key] = parsed.value;
      lines[key] = entry.line;
    } else if (!Object.hasOwn(IGNORED_KEYS, key)) {
      warnings.push(`${place(source, entry.line, key)} unknown option, ignored`);
    }
  }

  const fail = (key: ConfigKey, what: string, line = lines[key]!): never => {
    throw new ConfigError(`${place(source, line, key)} ${what}`, source, line, key);
  };
  const mail_domain = given.mail_domain as string | undefined;
  if (mail_domain === undefined)
    fail("mail_domain", "required option missing", doc.sectionLines.get(PARAMS)!);
  const basis = {
    mail_domain: mail_domain!,
    tls_external_cert_and_key: (given.tls_external_cert_and_key as string | undefined) ?? "",
  };
  const config: Record<string, unknown> = { source };
  for (const key of Object.keys(SCHEMA) as ConfigKey[]) {
    config[key] = key in given ? given[key] : defaultOf(key, basis);
  }
  const c = config as unknown as Config;

  if (c.tls_mode === "external" && c.tls_external_cert_and_key === "") {
    fail("tls_mode", "external needs tls_external_cert_and_key");
  }
  if (c.tls_mode !== "external" && c.tls_external_cert_and_key !== "") {
    warnings.push(
      `${place(source, lines.tls_external_cert_and_key!, "tls_external_cert_and_key")} ignored because tls_mode is ${c.tls_mode}`,
    );
  }
  if (c.username_min_length > c.username_max_length) {
    const key = lines.username_max_length !== undefined ? "username_max_length" : "username_min_length";
    fail(
      key,
      `username_min_length (${c.username_min_length}) is greater than username_max_length (${c.username_max_length})`,
    );
  }
  return { config: c, warnings };
}

/** Node's fs error text without its trailing ", <syscall> '<path>'" (the path is shown already). */
function withoutSyscall(err: NodeJS.ErrnoException): string {
  const message = String(err.message);
  const cut = err.syscall === undefined ? -1 : message.indexOf(`, ${err.syscall}`);
  return cut < 0 ? message : message.slice(0, cut);
}

/** Read and parse a chatmail.ini file. Throws ConfigError. */
export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    // TextDecoder drops a leading byte order mark.
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(path));
  } catch (err) {
    const reason =
      err instanceof TypeError ? "not valid UTF-8" : withoutSyscall(err as NodeJS.ErrnoException);
    throw new ConfigError(`${path}: cannot read: ${reason}`, path);
  }
  return parseConfig(text, path);
}

const LOCAL_PORTS = {
  smtp_port: 2525,
  submission_port: 2587,
  submissions_port: 2465,
  imap_port: 2143,
  imaps_port: 2993,
  https_port: 2443,
  http_port: 2080,
};

/**
 * Fill in what depends on other fields (turn_host from mail_domain,
 * nocreate_file inside data_dir) unless the overrides set it.
 */
function finish(base: Config, overrides: Partial<Config>): Config {
  const data_dir = resolve(process.cwd(), overrides.data_dir ?? base.data_dir);
  const mail_domain = overrides.mail_domain ?? base.mail_domain;
  return {
    ...base,
    ...overrides,
    data_dir,
    turn_host: overrides.turn_host ?? mail_domain,
    nocreate_file: resolve(data_dir, overrides.nocreate_file ?? "nocreate"),
  };
}

/**
 * What `npm start` runs with when no --config is given: a self-signed relay for
 * `_chatrelay.localhost` on 127.0.0.1, unprivileged ports, data in ./data.
 */
export function embeddedConfig(overrides: Partial<Config> = {}): Config {
  const base: Config = {
    ...defaultConfig("_chatrelay.localhost", "<embedded>"),
    ...LOCAL_PORTS,
    tls_mode: "self",
    listen_address: "127.0.0.1",
    data_dir: "./data",
  };
  return finish(base, overrides);
}

/**
 * For tests: like embeddedConfig but every listener on port 0 (ephemeral),
 * mail_domain `_chatrelay.test`, no push notifications, and resource limits
 * for account creation that a busy test machine cannot trip (the tests that
 * check those limits set them). Without a data_dir
 * override a fresh temporary folder is made; the caller removes it.
 */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const ports = Object.fromEntries(Object.keys(LOCAL_PORTS).map((k) => [k, 0]));
  const base: Config = {
    ...defaultConfig("_chatrelay.test", "<test>"),
    ...ports,
    metrics_port: 0,
    tls_mode: "self",
    listen_address: "127.0.0.1",
    push_url: "",
    max_load_1m: 1e9,
    min_available_memory: 0,
    min_free_disk_space: 0,
    // every test client comes from 127.0.0.1; the tests of these limits set them
    max_connections_per_ip: 100_000,
    max_login_failures_per_ip: 1_000_000,
    max_login_failures_per_account: 1_000_000,
    max_accounts_per_ip: 1_000_000,
    outbound_allow_private: true,
    data_dir: overrides.data_dir ?? mkdtempSync(join(tmpdir(), "chatrelay-test-")),
  };
  return finish(base, overrides);
}

export { defaultConfig };
