/**
 * POST /new (and the legacy /cgi-bin/newemail.py): random credentials for a
 * new address, as the reference relay's newemail.py (docs/reference-relay.md §2.9). The
 * account itself is created on first login. In self-signed mode a dclogin:
 * link carries the host, ports and "accept invalid certificates" (chatmail/core
 * src/qr/dclogin_scheme.rs: ih/ip/is, sh/sp/ss, ic=3). A relay named under
 * `localhost` (the embedded default `_chatrelay.localhost`) is announced by its
 * listen address: RFC 6761 §6.3 reserves those names for loopback, but not
 * every resolver answers them.
 */
import { randomInt } from "node:crypto";
import { addressDomain, isIpDomain } from "../config/domain.ts";
import type { Config } from "../config/types.ts";
import { type PortsSource, publicPort } from "./ports.ts";

const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Python's string.ascii_letters + digits + punctuation, as newemail.py uses. */
const PASSWORD_CHARS =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

export interface NewCredentials {
  email: string;
  password: string;
  dclogin_url?: string;
}

function randomString(alphabet: string, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** dclogin: query values: RFC 3986 unreserved characters stay, everything else is percent-encoded. */
function q(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A name under `localhost.` (RFC 6761 §6.3): loopback, whatever DNS says. */
export function isLocalhostName(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, "");
  return d === "localhost" || d.endsWith(".localhost");
}

/**
 * The host clients connect to: the mail domain, except for localhost names,
 * which are reached at the listen address (127.0.0.1 for a wildcard).
 */
export function clientHost(config: Config): string {
  if (!isLocalhostName(config.mail_domain)) return config.mail_domain;
  const listen = config.listen_address;
  if (listen === "" || listen === "0.0.0.0") return "127.0.0.1";
  if (listen === "::") return "::1";
  return listen;
}

/**
 * Whether the website's QR code must be a dclogin: link: a `DCACCOUNT:https://…`
 * link makes Delta Chat fetch /new with strict TLS from the mail domain
 * (chatmail/core src/qr.rs, account QR codes), which a self-signed IP or localhost relay cannot pass.
 */
export function websiteNeedsLoginLink(config: Config): boolean {
  return (
    config.tls_mode === "self" && (isIpDomain(config.mail_domain) || isLocalhostName(config.mail_domain))
  );
}

export function dcloginUrl(config: Config, email: string, password: string, live?: PortsSource): string {
  const host = clientHost(config);
  const imaps = publicPort(config, "imaps", live);
  const submissions = publicPort(config, "submissions", live);
  let url = `dclogin:${email}?p=${q(password)}&v=1`;
  // names with standard ports need no hints: the client's autoconfig finds them
  if (isIpDomain(host) || host !== config.mail_domain || imaps !== 993 || submissions !== 465) {
    if (imaps !== undefined) url += `&ih=${q(host)}&ip=${imaps}&is=ssl`;
    if (submissions !== undefined) url += `&sh=${q(host)}&sp=${submissions}&ss=ssl`;
  }
  return `${url}&ic=3`;
}

export function newCredentials(config: Config, live?: PortsSource): NewCredentials {
  const local = randomString(LOWER_ALNUM, config.username_max_length);
  const email = `${local}@${addressDomain(config.mail_domain)}`;
  const password = randomString(PASSWORD_CHARS, config.password_min_length + 3);
  const creds: NewCredentials = { email, password };
  if (config.tls_mode === "self") creds.dclogin_url = dcloginUrl(config, email, password, live);
  return creds;
}
