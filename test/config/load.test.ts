import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  defaultConfig,
  embeddedConfig,
  loadConfig,
  parseConfig,
  testConfig,
} from "../../src/config/load.ts";
import { IGNORED_KEYS } from "../../src/config/schema.ts";
import type { Config } from "../../src/config/types.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const fixtures = join(here, "..", "fixtures", "ini");
const fixture = (name: string) => join(fixtures, name);

/** Parse a [params] section made of the given lines. */
function params(...lines: string[]): Config {
  return parseConfig(`[params]\nmail_domain = chat.example.org\n${lines.join("\n")}\n`, "/etc/chatmail.ini")
    .config;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e;
  }
  assert.fail("expected a ConfigError");
}

function paramsError(...lines: string[]): string {
  return configError(() => params(...lines)).message;
}

test("defaults of a real install with only mail_domain set", () => {
  const { config, warnings } = loadConfig(fixture("minimal.ini"));
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, {
    source: fixture("minimal.ini"),
    mail_domain: "chat.example.org",
    max_user_send_per_minute: 60,
    max_user_send_burst_size: 10,
    max_mailbox_size: 500 * 1024 * 1024,
    max_message_size: 31457280,
    delete_mails_after: 20,
    delete_large_after: 7,
    delete_inactive_users_after: 90,
    username_min_length: 9,
    username_max_length: 9,
    password_min_length: 9,
    max_load_1m: 5,
    min_available_memory: 200 * 1024 * 1024,
    min_free_disk_space: 1024 * 1024 * 1024,
    max_imap_connections: 10000,
    max_smtp_connections: 1000,
    tls_external_cert_and_key: "",
    www_folder: "",
    disable_ipv6: false,
    acme_email: "",
    iroh_relay: undefined,
    mtail_address: "",
    imap_rawlog: false,
    imap_compress: false,
    turn_socket_path: "/run/chatmail-turn/turn.socket",
    privacy_postal: "",
    privacy_mail: "",
    privacy_pdo: "",
    privacy_supervisor: "",
    listen_address: "0.0.0.0",
    smtp_port: 25,
    submission_port: 587,
    submissions_port: 465,
    imap_port: 143,
    imaps_port: 993,
    https_port: 443,
    http_port: 80,
    metrics_port: 3903,
    data_dir: "/var/lib/chatrelay",
    push_url: "https://notifications.delta.chat/notify",
    tls_mode: "acme",
    tls_min_version_client: "TLSv1.3",
    dns_servers: [],
    dkim_selector: "opendkim",
    imap_idle_keepalive: 240,
    turn_secret: "",
    turn_host: "chat.example.org",
    turn_port: 3478,
    max_queue_lifetime: 172800,
    outbound_https_port: 443,
    outbound_smtp_port: 25,
    nocreate_file: "/etc/chatmail-nocreate",
    log_level: "info",
    max_connections_per_ip: 200,
    max_mx_connections_per_ip: 20,
    tls_handshake_timeout: 10,
    preauth_timeout: 60,
    max_buffered_bytes: 256 * 2 ** 20,
    max_login_failures_per_ip: 30,
    max_login_failures_per_account: 10,
    max_accounts_per_ip: 30,
    outbound_allow_private: false,
    acme_directory: "https://acme-v02.api.letsencrypt.org/directory",
  });
  assert.deepEqual(config, defaultConfig("chat.example.org", fixture("minimal.ini")));
});

test("a reference relay's ini: same values, warnings for options that have no effect", () => {
  const path = fixture("reference-default.ini");
  const { config, warnings } = loadConfig(path);
  assert.deepEqual(config, defaultConfig("chat.example.org", path));
  assert.deepEqual(warnings, [
    `${path}:36: passthrough_senders: unknown option, ignored`,
    `${path}:38: passthrough_recipients: unknown option, ignored`,
    `${path}:56: tls_cert: unknown option, ignored`,
  ]);
});

test("colons, upper-case keys, ; comments, multi-line privacy texts, the reference's own keys", () => {
  const path = fixture("testrun-style.ini");
  const { config, warnings } = loadConfig(path);
  assert.deepEqual(warnings, [`${path}:27: tmpfs_index: unknown option, ignored`]);
  assert.equal(config.mail_domain, "chat.example.net");
  assert.equal(config.max_user_send_per_minute, 120);
  assert.equal(config.max_user_send_burst_size, 20);
  assert.equal(config.max_mailbox_size, 2 * 2 ** 30);
  assert.equal(config.max_message_size, 50 * 2 ** 20);
  assert.equal(config.delete_mails_after, 40);
  assert.equal(config.delete_large_after, 14);
  assert.equal(config.delete_inactive_users_after, 365);
  assert.equal(config.iroh_relay, "");
  assert.equal(config.mtail_address, "10.0.0.5");
  assert.equal(config.imap_compress, true);
  assert.equal(config.disable_ipv6, true);
  assert.equal(config.turn_host, "chat.example.net");
  assert.equal(
    config.privacy_postal,
    "Example Relay e.V., represented by the board,\nBeispielweg 7, 12345 Musterstadt, Germany",
  );
  assert.equal(config.privacy_mail, "privacy@chat.example.net");
  assert.equal(
    config.privacy_pdo,
    "Dr. A. Person, Data Protection Office,\n\nHauptstrasse 1, 12345 Musterstadt.\nYou can reach the office at dpo@example.net",
  );
  assert.equal(
    config.privacy_supervisor,
    "State Commissioner for Data Protection\nand Freedom of Information",
  );
});

test("every chatrelay key set; [DEFAULT] supplies values; relative paths resolve against the file's folder", () => {
  const path = fixture("chatrelay-all.ini");
  const { config, warnings } = loadConfig(path);
  assert.deepEqual(warnings, [`${path}:71: [deploy]: unknown section, ignored`]);
  assert.deepEqual(config, {
    source: path,
    mail_domain: "relay.example.com",
    max_user_send_per_minute: 30,
    max_user_send_burst_size: 5,
    max_mailbox_size: 1.5 * 2 ** 30,
    max_message_size: 10485760,
    delete_mails_after: 10,
    delete_large_after: 3,
    delete_inactive_users_after: 30,
    username_min_length: 6,
    username_max_length: 12,
    password_min_length: 12,
    max_load_1m: 2.5,
    min_available_memory: 512 * 2 ** 20,
    min_free_disk_space: 5 * 2 ** 30,
    max_imap_connections: 500,
    max_smtp_connections: 100,
    tls_external_cert_and_key: `${fixtures}/certs/fullchain.pem ${fixtures}/certs/privkey.pem`,
    www_folder: `${fixtures}/www`,
    disable_ipv6: true,
    acme_email: "admin@example.com",
    iroh_relay: "https://iroh.example.com",
    mtail_address: "127.0.0.1",
    imap_rawlog: true,
    imap_compress: true,
    turn_socket_path: "/run/turn.sock",
    privacy_postal: "Example Inc., 1 Main St",
    privacy_mail: "privacy@example.com",
    privacy_pdo: "Jane Doe",
    privacy_supervisor: "The Authority",
    listen_address: "::",
    smtp_port: 10025,
    submission_port: 10587,
    submissions_port: 10465,
    imap_port: 10143,
    imaps_port: 10993,
    https_port: 10443,
    http_port: -1,
    metrics_port: 13903,
    data_dir: `${fixtures}/state`,
    push_url: "https://push.example.com/notify",
    tls_mode: "external",
    tls_min_version_client: "TLSv1.2",
    dns_servers: ["192.0.2.53", "192.0.2.54:5353", "[2001:db8::53]:53"],
    dkim_selector: "relay2024",
    imap_idle_keepalive: 120,
    turn_secret: "s3cret",
    turn_host: "turn.example.com",
    turn_port: 3479,
    max_queue_lifetime: 86400,
    outbound_https_port: 8443,
    outbound_smtp_port: 2525,
    nocreate_file: resolve(fixtures, "..", "nocreate"),
    log_level: "debug",
    max_connections_per_ip: 50,
    max_mx_connections_per_ip: 10,
    tls_handshake_timeout: 5,
    preauth_timeout: 30,
    max_buffered_bytes: 64 * 2 ** 20,
    max_login_failures_per_ip: 15,
    max_login_failures_per_account: 5,
    max_accounts_per_ip: 12,
    outbound_allow_private: true,
    acme_directory: "https://acme.example.com/directory",
  });
});

test("[params] overrides [DEFAULT]", () => {
  const text =
    "[DEFAULT]\nmax_load_1m = 3\nlog_level = debug\n[params]\nmail_domain = a.example\nlog_level = warn\n";
  const { config } = parseConfig(text, "/x.ini");
  assert.equal(config.max_load_1m, 3);
  assert.equal(config.log_level, "warn");
});

test("indented keys, values on continuation lines, blank lines", () => {
  const { config } = loadConfig(fixture("indented.ini"));
  assert.equal(config.mail_domain, "chat.example.org");
  assert.equal(config.acme_email, "admin@example.org");
  assert.equal(config.www_folder, "disabled");
});

test("tls_mode is derived from the domain and the certificate option", () => {
  assert.equal(loadConfig(fixture("ip-relay.ini")).config.tls_mode, "self");
  assert.equal(loadConfig(fixture("ip-relay.ini")).config.mail_domain, "192.0.2.10");
  assert.equal(loadConfig(fixture("underscore.ini")).config.tls_mode, "self");
  assert.equal(params().tls_mode, "acme");
  const external = params("tls_external_cert_and_key = /etc/ssl/c.pem   k.pem");
  assert.equal(external.tls_mode, "external");
  assert.equal(external.tls_external_cert_and_key, "/etc/ssl/c.pem /etc/k.pem");
  assert.equal(params("tls_mode = SELF").tls_mode, "self");
  const { config, warnings } = parseConfig(
    "[params]\nmail_domain = a.example\ntls_mode = acme\ntls_external_cert_and_key = c k\n",
    "/etc/chatmail.ini",
  );
  assert.equal(config.tls_mode, "acme");
  assert.deepEqual(warnings, [
    "/etc/chatmail.ini:4: tls_external_cert_and_key: ignored because tls_mode is acme",
  ]);
});

test("sizes: K, M, G, T with optional B, any case; bare numbers are bytes", () => {
  const cases: [string, number][] = [
    ["500M", 500 * 2 ** 20],
    ["500m", 500 * 2 ** 20],
    ["500MB", 500 * 2 ** 20],
    ["500mb", 500 * 2 ** 20],
    ["1G", 2 ** 30],
    ["1gB", 2 ** 30],
    ["2 G", 2 * 2 ** 30],
    ["1.5G", 1.5 * 2 ** 30],
    ["100K", 100 * 1024],
    ["1T", 2 ** 40],
    ["1024", 1024],
    ["1024B", 1024],
    ["31457280", 31457280],
  ];
  for (const [text, bytes] of cases) {
    assert.equal(params(`max_mailbox_size = ${text}`).max_mailbox_size, bytes, text);
    assert.equal(params(`max_message_size = ${text}`).max_message_size, bytes, text);
    assert.equal(params(`min_free_disk_space = ${text}`).min_free_disk_space, bytes, text);
  }
  assert.equal(params("min_available_memory = 0").min_available_memory, 0);
  for (const bad of ["", "M", "-1M", "1.5", "500X", "1e6", "500 MB extra", "0", "0M", "1,5G"]) {
    assert.equal(
      paramsError(`max_message_size = ${bad}`),
      `/etc/chatmail.ini:3: max_message_size: expected a size such as 500M, 1G or a number of bytes${
        /^0M?$/.test(bad) ? ", more than 0" : ""
      }, got ${JSON.stringify(bad)}`,
    );
  }
});

test("booleans are true or false in any case", () => {
  assert.equal(params("imap_rawlog = TRUE").imap_rawlog, true);
  assert.equal(params("imap_rawlog = tRuE").imap_rawlog, true);
  assert.equal(params("imap_rawlog = False").imap_rawlog, false);
  for (const bad of ["yes", "1", "", "on"]) {
    assert.equal(
      paramsError(`disable_ipv6 = ${bad}`),
      `/etc/chatmail.ini:3: disable_ipv6: expected true or false, got ${JSON.stringify(bad)}`,
    );
  }
});

test("integers and ports", () => {
  assert.equal(params("delete_mails_after = 0").delete_mails_after, 0);
  // 0 lets the system pick a port; off (or -1) turns the listener off
  assert.equal(params("imap_port = 0").imap_port, 0);
  assert.equal(params("imap_port = off").imap_port, -1);
  assert.equal(params("smtp_port = OFF").smtp_port, -1);
  assert.equal(params("http_port = -1").http_port, -1);
  for (const bad of ["-2", "65536", "no", ""]) {
    assert.equal(
      paramsError(`https_port = ${bad}`),
      `/etc/chatmail.ini:3: https_port: expected a port number (0-65535) or off, got ${JSON.stringify(bad)}`,
    );
  }
  assert.equal(params("max_queue_lifetime = 3600").max_queue_lifetime, 3600);
  assert.equal(params("turn_port = 65535").turn_port, 65535);
  for (const bad of ["0", "-1", "+5", "5.0", "1e3", "abc", ""]) {
    assert.equal(
      paramsError(`max_user_send_per_minute = ${bad}`),
      `/etc/chatmail.ini:3: max_user_send_per_minute: expected a positive integer, got ${JSON.stringify(bad)}`,
    );
  }
  assert.equal(
    paramsError("delete_large_after = -1"),
    '/etc/chatmail.ini:3: delete_large_after: expected a non-negative integer, got "-1"',
  );
  assert.equal(
    paramsError("outbound_smtp_port = 0"),
    '/etc/chatmail.ini:3: outbound_smtp_port: expected a port number (1-65535), got "0"',
  );
  assert.equal(
    paramsError("max_load_1m = 0"),
    '/etc/chatmail.ini:3: max_load_1m: expected a positive number, got "0"',
  );
  assert.equal(params("max_load_1m = 0.75").max_load_1m, 0.75);
});

test("lists, enums, URLs, addresses", () => {
  assert.deepEqual(params("dns_servers = 192.0.2.1,192.0.2.2:5353,  ::1").dns_servers, [
    "192.0.2.1",
    "192.0.2.2:5353",
    "::1",
  ]);
  assert.deepEqual(params("dns_servers =").dns_servers, []);
  assert.equal(
    paramsError("dns_servers = [192.0.2.1]:53"),
    '/etc/chatmail.ini:3: dns_servers: expected IP addresses with an optional port, separated by spaces or commas, got "[192.0.2.1]:53"',
  );
  assert.equal(params("tls_min_version_client = tlsv1.2").tls_min_version_client, "TLSv1.2");
  assert.equal(params("push_url =").push_url, "");
  assert.equal(params("push_url = http://127.0.0.1:8080/notify").push_url, "http://127.0.0.1:8080/notify");
  assert.equal(params("listen_address = ::1").listen_address, "::1");
  assert.equal(params("dkim_selector = 2024.relay").dkim_selector, "2024.relay");
  assert.equal(
    paramsError("dkim_selector = a b"),
    '/etc/chatmail.ini:3: dkim_selector: expected a DNS name such as opendkim, got "a b"',
  );
  assert.equal(params("www_folder =").www_folder, "");
  assert.equal(params("data_dir = /srv/relay").data_dir, "/srv/relay");
  assert.equal(params("data_dir = relay").data_dir, "/etc/relay");
});

test("mail_domain: lower-cased; domains, _-names and IPv4 only", () => {
  const c = parseConfig("[params]\nmail_domain = Chat.Example.ORG\n", "/a.ini").config;
  assert.equal(c.mail_domain, "chat.example.org");
  assert.equal(c.turn_host, "chat.example.org");
  for (const bad of [
    "[192.0.2.1]",
    "user@example.org",
    "2001:db8::1",
    "-a.example",
    "a..example",
    "a.example.",
  ]) {
    assert.equal(
      configError(() => parseConfig(`[params]\nmail_domain = ${bad}\n`, "/a.ini")).message,
      `/a.ini:2: mail_domain: expected a domain name or an IPv4 address, got ${JSON.stringify(bad)}`,
    );
  }
});

test("iroh_relay: absent is undefined, present (even empty) is the string", () => {
  assert.equal(params().iroh_relay, undefined);
  assert.equal(params("iroh_relay =").iroh_relay, "");
  assert.equal(params("iroh_relay = https://iroh.example.org").iroh_relay, "https://iroh.example.org");
});

test("the reference relay's internal keys are accepted without a warning", () => {
  const lines = Object.keys(IGNORED_KEYS).map((k) => `${k} = 10080`);
  const { warnings } = parseConfig(`[params]\nmail_domain = a.example\n${lines.join("\n")}\n`, "/a.ini");
  assert.deepEqual(warnings, []);
  assert.ok(Object.keys(IGNORED_KEYS).length >= 8);
});

test("unknown keys and sections give warnings in file order", () => {
  const text = "[other]\nx = 1\n[params]\nmail_domain = a.example\nPassthrough_Senders = a@b\nfoo: bar\n";
  assert.deepEqual(parseConfig(text, "/a.ini").warnings, [
    "/a.ini:1: [other]: unknown section, ignored",
    "/a.ini:5: passthrough_senders: unknown option, ignored",
    "/a.ini:6: foo: unknown option, ignored",
  ]);
});

test("CRLF files and a byte order mark are read", () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-config-"));
  try {
    const path = join(dir, "chatmail.ini");
    writeFileSync(
      path,
      "\ufeff[params]\r\nmail_domain = a.example\r\nprivacy_postal =\r\n  x\r\n  y\r\nbad = \r\n",
    );
    const { config, warnings } = loadConfig(path);
    assert.equal(config.privacy_postal, "x\ny");
    assert.deepEqual(warnings, [`${path}:6: bad: unknown option, ignored`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("unreadable files", () => {
  const dir = mkdtempSync(join(tmpdir(), "chatrelay-config-"));
  try {
    const missing = join(dir, "missing.ini");
    const e = configError(() => loadConfig(missing));
    assert.equal(e.message, `${missing}: cannot read: ENOENT: no such file or directory`);
    assert.equal(e.file, missing);
    assert.equal(e.line, undefined);
    assert.equal(
      configError(() => loadConfig(dir)).message,
      `${dir}: cannot read: EISDIR: illegal operation on a directory`,
    );
    const latin1 = join(dir, "latin1.ini");
    writeFileSync(
      latin1,
      Buffer.from("[params]\nmail_domain = a.example\nprivacy_postal = M\xfcnchen\n", "latin1"),
    );
    assert.equal(configError(() => loadConfig(latin1)).message, `${latin1}: cannot read: not valid UTF-8`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const BROKEN: [string, string, number | undefined, string | undefined][] = [
  [
    "missing-section.ini",
    ':2: "mail_domain = chat.example.org" comes before any [section] header',
    2,
    undefined,
  ],
  ["duplicate-section.ini", ":7: duplicate section [params] (first at line 1)", 7, undefined],
  [
    "duplicate-key.ini",
    ":6: max_message_size: duplicate option in [params] (first at line 3)",
    6,
    "max_message_size",
  ],
  [
    "garbage-line.ini",
    ':3: expected "key = value", "key: value" or "[section]", got "this line has no separator"',
    3,
    undefined,
  ],
  ["empty-key.ini", ':3: missing option name before "=" in "= orphan value"', 3, undefined],
  ["garbage-then-duplicate.ini", ":4: duplicate section [params] (first at line 1)", 4, undefined],
  [
    "bad-int.ini",
    ':7: max_user_send_per_minute: expected a positive integer, got "abc"',
    7,
    "max_user_send_per_minute",
  ],
  [
    "bad-size.ini",
    ':3: max_mailbox_size: expected a size such as 500M, 1G or a number of bytes, got "500X"',
    3,
    "max_mailbox_size",
  ],
  ["bad-bool.ini", ':3: imap_compress: expected true or false, got "yes"', 3, "imap_compress"],
  ["bad-port.ini", ':3: imap_port: expected a port number (0-65535) or off, got "99999"', 3, "imap_port"],
  ["no-mail-domain.ini", ":1: mail_domain: required option missing", 1, "mail_domain"],
  ["no-params.ini", ": missing [params] section", undefined, undefined],
  [
    "bad-domain.ini",
    ':2: mail_domain: expected a domain name or an IPv4 address, got "chat example org"',
    2,
    "mail_domain",
  ],
  [
    "bad-tls-mode.ini",
    ':3: tls_mode: expected one of acme, self, external, got "letsencrypt"',
    3,
    "tls_mode",
  ],
  ["external-without-cert.ini", ":3: tls_mode: external needs tls_external_cert_and_key", 3, "tls_mode"],
  [
    "bad-cert-and-key.ini",
    ':3: tls_external_cert_and_key: expected "CERT_PATH KEY_PATH" (two paths separated by a space), got "/etc/ssl/only-one.pem"',
    3,
    "tls_external_cert_and_key",
  ],
  [
    "bad-dns.ini",
    ':3: dns_servers: expected IP addresses with an optional port, separated by spaces or commas, got "dns.example.net"',
    3,
    "dns_servers",
  ],
  [
    "username-lengths.ini",
    ":4: username_max_length: username_min_length (12) is greater than username_max_length (8)",
    4,
    "username_max_length",
  ],
  [
    "bad-log-level.ini",
    ':3: log_level: expected one of fatal, error, warn, info, debug, trace, got "verbose"',
    3,
    "log_level",
  ],
  [
    "bad-listen-address.ini",
    ':3: listen_address: expected an IP address such as 0.0.0.0 or ::, got "localhost"',
    3,
    "listen_address",
  ],
  [
    "bad-push-url.ini",
    ':3: push_url: expected an http:// or https:// URL (or nothing), got "ftp://push.example.org/"',
    3,
    "push_url",
  ],
  [
    "zero-message-size.ini",
    ':3: max_message_size: expected a size such as 500M, 1G or a number of bytes, more than 0, got "0"',
    3,
    "max_message_size",
  ],
];

test("every broken fixture gives a ConfigError that names file, line and key", () => {
  for (const [name, suffix, line, key] of BROKEN) {
    const path = fixture(`broken/${name}`);
    const e = configError(() => loadConfig(path));
    assert.equal(e.message, path + suffix, name);
    assert.equal(e.file, path);
    assert.equal(e.line, line, name);
    assert.equal(e.key, key, name);
    assert.equal(e.name, "ConfigError");
  }
});

test("username_min_length alone above the default maximum names that key", () => {
  assert.equal(
    paramsError("username_min_length = 10"),
    "/etc/chatmail.ini:3: username_min_length: username_min_length (10) is greater than username_max_length (9)",
  );
});

/** The ports a relay listens on, in a fixed order. */
function listenPorts(c: Config): number[] {
  return [
    c.smtp_port,
    c.submission_port,
    c.submissions_port,
    c.imap_port,
    c.imaps_port,
    c.https_port,
    c.http_port,
  ];
}

test("parseConfig resolves against baseDir when given, else the folder of source", () => {
  const text = "[params]\nmail_domain = a.example\ndata_dir = d\nnocreate_file = ./n\nwww_folder = ../w\n";
  const a = parseConfig(text, "/etc/chatrelay/chatmail.ini").config;
  assert.deepEqual(
    [a.data_dir, a.nocreate_file, a.www_folder],
    ["/etc/chatrelay/d", "/etc/chatrelay/n", "/etc/w"],
  );
  const b = parseConfig(text, "<stdin>", "/srv").config;
  assert.deepEqual([b.data_dir, b.nocreate_file, b.www_folder], ["/srv/d", "/srv/n", "/w"]);
});

test("embeddedConfig: a local self-signed relay on unprivileged ports", () => {
  const c = embeddedConfig();
  assert.equal(c.source, "<embedded>");
  assert.equal(c.mail_domain, "_chatrelay.localhost");
  assert.equal(c.tls_mode, "self");
  assert.equal(c.listen_address, "127.0.0.1");
  assert.deepEqual(listenPorts(c), [2525, 2587, 2465, 2143, 2993, 2443, 2080]);
  assert.equal(c.data_dir, resolve(process.cwd(), "data"));
  assert.equal(c.nocreate_file, join(c.data_dir, "nocreate"));
  assert.equal(c.turn_host, "_chatrelay.localhost");
  assert.equal(c.max_message_size, 31457280);
  assert.equal(c.push_url, "https://notifications.delta.chat/notify");
  const o = embeddedConfig({ mail_domain: "_x.localhost", data_dir: "other", imap_port: 1143 });
  assert.equal(o.turn_host, "_x.localhost");
  assert.equal(o.data_dir, resolve(process.cwd(), "other"));
  assert.equal(o.nocreate_file, resolve(process.cwd(), "other", "nocreate"));
  assert.equal(o.imap_port, 1143);
  assert.equal(embeddedConfig({ turn_host: "t.example", nocreate_file: "/x" }).turn_host, "t.example");
  assert.equal(embeddedConfig({ nocreate_file: "/x" }).nocreate_file, "/x");
});

test("testConfig: ephemeral ports on loopback, a fresh data folder unless given", () => {
  const c = testConfig();
  try {
    assert.equal(c.source, "<test>");
    assert.equal(c.mail_domain, "_chatrelay.test");
    assert.equal(c.listen_address, "127.0.0.1");
    assert.equal(c.tls_mode, "self");
    assert.deepEqual(listenPorts(c), [0, 0, 0, 0, 0, 0, 0]);
    assert.ok(existsSync(c.data_dir));
    assert.equal(c.nocreate_file, join(c.data_dir, "nocreate"));
    assert.equal(c.push_url, "");
    assert.equal(c.metrics_port, 0);
    assert.notEqual(testConfig({ data_dir: c.data_dir, max_message_size: 5 }).data_dir, undefined);
    assert.equal(testConfig({ data_dir: c.data_dir, max_message_size: 5 }).max_message_size, 5);
    assert.equal(testConfig({ data_dir: c.data_dir }).data_dir, c.data_dir);
  } finally {
    rmSync(c.data_dir, { recursive: true, force: true });
  }
});
