/**
 * Every chatmail.ini `[params]` option chatrelay reads: the reference relay's
 * options (same names, same defaults, docs/reference-relay.md §4) and chatrelay's own, each
 * with its parser, default and a one-line meaning (used by the `init` template
 * and checked against docs/configuration.md). The mapped type makes the compiler
 * insist on exactly one entry per Config field.
 */
import type { Config, TlsMode } from "./types.ts";
import * as v from "./values.ts";

export type ConfigKey = Exclude<keyof Config, "source">;

/** What derived defaults may look at. */
export interface DefaultBasis {
  mail_domain: string;
  tls_external_cert_and_key: string;
}

export interface KeySpec<T> {
  origin: "reference" | "chatrelay";
  parse: v.ValueParser<T>;
  /** The default, or how to derive it from mail_domain and the certificate option. */
  default: T | ((basis: DefaultBasis) => T);
  /** The value as it would be written in the ini file. */
  format: (value: T) => string;
  /** Default as shown in the docs when it is not a plain value. */
  defaultText?: string;
  /** One-line meaning. */
  doc: string;
}

export type Schema = { [K in ConfigKey]: KeySpec<Config[K]> };

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export function formatSize(bytes: number): string {
  if (bytes > 0 && bytes % GiB === 0) return `${bytes / GiB}G`;
  if (bytes > 0 && bytes % MiB === 0) return `${bytes / MiB}M`;
  return String(bytes);
}

const str = String;
const num = String;
const bool = (b: boolean) => (b ? "true" : "false");

/**
 * self for "_"-domains and IPv4 relays, external when a certificate is configured,
 * else acme (docs/reference-relay.md §5.6).
 */
export function derivedTlsMode(basis: DefaultBasis): TlsMode {
  if (basis.mail_domain.startsWith("_") || /^\d+\.\d+\.\d+\.\d+$/.test(basis.mail_domain)) return "self";
  if (basis.tls_external_cert_and_key !== "") return "external";
  return "acme";
}

function reference<T>(spec: Omit<KeySpec<T>, "origin">): KeySpec<T> {
  return { origin: "reference", ...spec };
}
function own<T>(spec: Omit<KeySpec<T>, "origin">): KeySpec<T> {
  return { origin: "chatrelay", ...spec };
}
const days = (d: number, doc: string) =>
  reference({ parse: v.nonNegativeInteger, default: d, format: num, doc });
const port = (p: number, doc: string) =>
  own({
    parse: v.listenPort,
    default: p,
    format: (n) => (n < 0 ? "off" : String(n)),
    doc: `${doc} off = no listener.`,
  });

export const SCHEMA: Schema = {
  mail_domain: reference({
    parse: v.mailDomain,
    default: "",
    format: str,
    defaultText: "(required)",
    doc: 'The relay\'s domain: addresses are user@mail_domain. An IPv4 address makes an IP-only relay (user@[192.0.2.1]); a leading "_" or an IPv4 address selects a self-signed certificate.',
  }),
  max_user_send_per_minute: reference({
    parse: v.positiveInteger,
    default: 60,
    format: num,
    doc: "Messages one user may send per minute (GCRA rate limit).",
  }),
  max_user_send_burst_size: reference({
    parse: v.positiveInteger,
    default: 10,
    format: num,
    doc: "Messages one user may send in a burst before the per-minute rate applies.",
  }),
  max_mailbox_size: reference({
    parse: v.size(1),
    default: 500 * MiB,
    format: formatSize,
    doc: "Storage quota of one mailbox. Sizes take K, M, G or T (binary) with an optional B; a bare number is bytes.",
  }),
  max_message_size: reference({
    parse: v.size(1),
    default: 31457280,
    format: num,
    doc: "Largest message accepted, in bytes (a unit such as 30M works too).",
  }),
  delete_mails_after: days(20, "Days after which every message is deleted."),
  delete_large_after: days(7, "Days after which messages larger than 200 kB are deleted."),
  delete_inactive_users_after: days(
    90,
    "Days without a login after which an account and all its messages are removed.",
  ),
  username_min_length: reference({
    parse: v.positiveInteger,
    default: 9,
    format: num,
    doc: "Shortest user name (local part) accepted when an account is created on first login.",
  }),
  username_max_length: reference({
    parse: v.positiveInteger,
    default: 9,
    format: num,
    doc: "Longest user name accepted when an account is created; /new generates names of this length.",
  }),
  password_min_length: reference({
    parse: v.positiveInteger,
    default: 9,
    format: num,
    doc: "Shortest password accepted when an account is created; /new generates passwords 3 characters longer.",
  }),
  max_load_1m: reference({
    parse: v.positiveNumber,
    default: 5,
    format: num,
    doc: "No new accounts while the 1-minute load average is above this.",
  }),
  min_available_memory: reference({
    parse: v.size(0),
    default: 200 * MiB,
    format: formatSize,
    doc: "No new accounts while less memory than this is available.",
  }),
  min_free_disk_space: reference({
    parse: v.size(0),
    default: GiB,
    format: formatSize,
    doc: "No new accounts while less disk space than this is free.",
  }),
  max_imap_connections: reference({
    parse: v.positiveInteger,
    default: 10000,
    format: num,
    doc: "Most IMAP connections at once.",
  }),
  max_smtp_connections: reference({
    parse: v.positiveInteger,
    default: 1000,
    format: num,
    doc: "Most submission connections at once (for each submission port); one client address may hold a fifth of them.",
  }),
  tls_external_cert_and_key: reference({
    parse: v.certAndKey,
    default: "",
    format: str,
    doc: '"CERT_PATH KEY_PATH": a certificate chain and key managed outside chatrelay (re-read when they change). Setting it selects tls_mode external.',
  }),
  www_folder: reference({
    parse: v.wwwFolder,
    default: "",
    format: str,
    doc: 'Folder whose files are served as the website; empty = the built-in pages, "disabled" = no website.',
  }),
  disable_ipv6: reference({
    parse: v.boolean,
    default: false,
    format: bool,
    doc: "true = listen and connect over IPv4 only.",
  }),
  acme_email: reference({
    parse: v.text,
    default: "",
    format: str,
    doc: "Contact address given to Let's Encrypt (tls_mode acme).",
  }),
  iroh_relay: reference({
    parse: (t) => ({ ok: true, value: t }),
    default: undefined,
    format: (x) => x ?? "",
    defaultText: "(unset)",
    doc: "iroh relay URL advertised to clients (IMAP METADATA /shared/vendor/deltachat/irohrelay). Unset = none advertised; set to nothing = advertised as NIL. chatrelay runs no iroh relay itself.",
  }),
  mtail_address: reference({
    parse: v.text,
    default: "",
    format: str,
    doc: "IP address for the metrics listener (the reference relay runs mtail on port 3903 there); empty = no metrics. Never a public address.",
  }),
  imap_rawlog: reference({
    parse: v.boolean,
    default: false,
    format: bool,
    doc: "true = log the IMAP protocol of every session for debugging. Not for production.",
  }),
  imap_compress: reference({
    parse: v.boolean,
    default: false,
    format: bool,
    doc: "true = offer IMAP COMPRESS=DEFLATE (RFC 4978).",
  }),
  turn_socket_path: reference({
    parse: v.text,
    default: "/run/chatmail-turn/turn.socket",
    format: str,
    doc: "Accepted for compatibility; chatrelay makes TURN credentials itself from turn_secret.",
  }),
  privacy_postal: reference({
    parse: v.text,
    default: "",
    format: str,
    doc: "Postal address of the privacy contact, shown on the privacy page. Continue long values on indented lines.",
  }),
  privacy_mail: reference({
    parse: v.text,
    default: "",
    format: str,
    doc: "Email address of the privacy contact (privacy page and IMAP METADATA /shared/admin).",
  }),
  privacy_pdo: reference({
    parse: v.text,
    default: "",
    format: str,
    doc: "Postal address of the data protection officer, shown on the privacy page.",
  }),
  privacy_supervisor: reference({
    parse: v.text,
    default: "",
    format: str,
    doc: "Postal address of the data protection supervisory authority, shown on the privacy page.",
  }),

  listen_address: own({
    parse: v.ipAddress,
    default: "0.0.0.0",
    format: str,
    doc: 'IP address every listener binds to ("::" for all IPv6 and IPv4 addresses).',
  }),
  smtp_port: port(25, "SMTP port for mail from other servers (MX)."),
  submission_port: port(587, "SMTP submission port with STARTTLS."),
  submissions_port: port(465, "SMTP submission port with implicit TLS."),
  imap_port: port(143, "IMAP port with STARTTLS."),
  imaps_port: port(993, "IMAP port with implicit TLS."),
  https_port: port(443, "HTTPS port (website, /new, /mxdeliv; also IMAP and SMTP by ALPN)."),
  http_port: port(80, "HTTP port (redirects to HTTPS, ACME challenges)."),
  metrics_port: port(3903, "Port of the Prometheus metrics listener on mtail_address (GET /metrics)."),
  data_dir: own({
    parse: v.path,
    default: "/var/lib/chatrelay",
    format: str,
    doc: "Folder for the database, messages, keys and certificates.",
  }),
  push_url: own({
    parse: v.httpUrl,
    default: "https://notifications.delta.chat/notify",
    format: str,
    doc: "Where push notifications are sent; empty = no push notifications.",
  }),
  tls_mode: own({
    parse: v.oneOf<TlsMode>("acme", "self", "external"),
    default: derivedTlsMode,
    format: str,
    defaultText: "derived (see TLS)",
    doc: "Where the TLS certificate comes from: acme (Let's Encrypt), self (self-signed) or external (tls_external_cert_and_key). Default: self for a domain starting with _ or an IPv4 address, external when tls_external_cert_and_key is set, else acme.",
  }),
  tls_min_version_client: own({
    parse: v.oneOf("TLSv1.3", "TLSv1.2"),
    default: "TLSv1.3",
    format: str,
    doc: "Oldest TLS version accepted on the IMAP and submission ports (TLSv1.2 or TLSv1.3).",
  }),
  dns_servers: own({
    parse: v.dnsServers,
    default: [],
    format: (list) => list.join(" "),
    defaultText: "(system resolver)",
    doc: 'DNS servers for MX and DKIM lookups, separated by spaces or commas, each "IP" or "IP:port" ("[IPv6]:port"); empty = the system resolver.',
  }),
  dkim_selector: own({
    parse: v.dnsName,
    default: "opendkim",
    format: str,
    doc: "DKIM selector: the public key is published at SELECTOR._domainkey.MAIL_DOMAIN.",
  }),
  imap_idle_keepalive: own({
    parse: v.positiveInteger,
    default: 240,
    format: num,
    doc: 'Seconds between "* OK Still here" lines sent to an IMAP client in IDLE.',
  }),
  turn_secret: own({
    parse: v.text,
    default: "",
    format: str,
    doc: "TURN shared secret (coturn's static-auth-secret) for call credentials; empty = no TURN server advertised.",
  }),
  turn_host: own({
    parse: v.text,
    default: (b) => b.mail_domain,
    format: str,
    defaultText: "mail_domain",
    doc: "Host name of the TURN server advertised to clients.",
  }),
  turn_port: own({ parse: v.remotePort, default: 3478, format: num, doc: "Port of the TURN server." }),
  max_queue_lifetime: own({
    parse: v.positiveInteger,
    default: 2 * 86400,
    format: num,
    doc: "Seconds a message for another server may wait in the outbound queue before it is bounced.",
  }),
  outbound_https_port: own({
    parse: v.remotePort,
    default: 443,
    format: num,
    doc: "Port of other relays' HTTPS /mxdeliv when delivering out (change only for tests).",
  }),
  outbound_smtp_port: own({
    parse: v.remotePort,
    default: 25,
    format: num,
    doc: "Port of other servers' SMTP when delivering out (change only for tests).",
  }),
  nocreate_file: own({
    parse: v.path,
    default: "/etc/chatmail-nocreate",
    format: str,
    doc: "While this file exists no new accounts are created.",
  }),
  log_level: own({
    parse: v.oneOf("fatal", "error", "warn", "info", "debug", "trace"),
    default: "info",
    format: str,
    doc: "Least important log records written: fatal, error, warn, info, debug or trace.",
  }),
  max_connections_per_ip: own({
    parse: v.positiveInteger,
    default: 200,
    format: num,
    doc: "Most connections at once from one client address (an IPv4 address or an IPv6 /64) on each of IMAP, submission, HTTPS and HTTP.",
  }),
  max_mx_connections_per_ip: own({
    parse: v.positiveInteger,
    default: 20,
    format: num,
    doc: "Most connections at once from one client address on the MX port.",
  }),
  tls_handshake_timeout: own({
    parse: v.positiveInteger,
    default: 10,
    format: num,
    doc: "Seconds a TLS handshake may take, on implicit-TLS ports and after STARTTLS.",
  }),
  preauth_timeout: own({
    parse: v.positiveInteger,
    default: 60,
    format: num,
    doc: "Seconds a connection may go without completing a command before it has logged in.",
  }),
  max_buffered_bytes: own({
    parse: v.size(1),
    default: 256 * MiB,
    format: formatSize,
    doc: "Bytes of incoming message bodies held in memory at once over all connections; past it new messages get a temporary error.",
  }),
  max_login_failures_per_ip: own({
    parse: v.positiveInteger,
    default: 30,
    format: num,
    doc: "Failed logins one client address may make per hour (as a burst that refills evenly); past it logins from there are refused for a while.",
  }),
  max_login_failures_per_account: own({
    parse: v.positiveInteger,
    default: 10,
    format: num,
    doc: "Failed logins per account per hour (as a burst that refills evenly); past it logins to that account are refused for a while.",
  }),
  max_accounts_per_ip: own({
    parse: v.positiveInteger,
    default: 30,
    format: num,
    doc: "Accounts one client address may create by logging in per hour (as a burst that refills evenly).",
  }),
  outbound_allow_private: own({
    parse: v.boolean,
    default: false,
    format: bool,
    doc: "true = deliver out to loopback, private, link-local and unspecified addresses too (tests, private networks).",
  }),
  acme_directory: own({
    parse: v.httpUrl,
    default: "https://acme-v02.api.letsencrypt.org/directory",
    format: str,
    doc: "ACME directory the certificate is requested from (tls_mode acme): Let's Encrypt by default.",
  }),
};

/**
 * The reference relay's internal options: accepted without a warning, no effect
 * (chatrelay has no filtermail or Postfix reinjection hops).
 */
export const IGNORED_KEYS: Record<string, string> = {
  filtermail_smtp_port: "port of the reference relay's outgoing filter",
  filtermail_smtp_port_incoming: "port of the reference relay's incoming filter",
  filtermail_http_port_incoming: "port of the reference relay's /mxdeliv receiver",
  filtermail_lmtp_port_transport: "port of the reference relay's outbound transport",
  filtermail_smtp_host: "host of the reference relay's filter",
  postfix_reinject_port: "Postfix reinjection port of the reference relay",
  postfix_reinject_port_incoming: "Postfix reinjection port of the reference relay (incoming)",
  postfix_reinject_host: "Postfix reinjection host of the reference relay",
  mailboxes_dir: "deprecated mailbox folder of the reference relay",
  passdb_path: "old password database of the reference relay (migration only)",
};

export const CONFIG_KEYS = Object.keys(SCHEMA) as ConfigKey[];

export function defaultOf<K extends ConfigKey>(key: K, basis: DefaultBasis): Config[K] {
  const d = SCHEMA[key].default as Config[K] | ((b: DefaultBasis) => Config[K]);
  return typeof d === "function" ? d(basis) : d;
}

/** The configuration of a real install with nothing but mail_domain set. */
export function defaultConfig(mail_domain: string, source = "<defaults>"): Config {
  const basis = { mail_domain, tls_external_cert_and_key: "" };
  const config: Record<string, unknown> = { source };
  for (const key of CONFIG_KEYS) config[key] = defaultOf(key, basis);
  config.mail_domain = mail_domain;
  return config as unknown as Config;
}

/** The default written the way the docs and the template show it. */
export function defaultText(key: ConfigKey): string {
  const spec = SCHEMA[key] as KeySpec<unknown>;
  if (spec.defaultText !== undefined) return spec.defaultText;
  return spec.format(spec.default);
}
