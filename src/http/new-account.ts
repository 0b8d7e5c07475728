/**
 * POST /new (and the legacy /cgi-bin/newemail.py): random credentials for a
 * new address, as the reference relay's newemail.py (docs/reference-relay.md §2.9). The
 * account itself is created on first login. In self-signed mode a dclogin:
 * link carries the host, ports and "accept invalid certificates"
 * (deltachat-client §3.2).
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

export function dcloginUrl(config: Config, email: string, password: string, live?: PortsSource): string {
  const host = config.mail_domain;
  const imaps = publicPort(config, "imaps", live);
  const submissions = publicPort(config, "submissions", live);
  let url = `dclogin:${email}?p=${q(password)}&v=1`;
  // names with standard ports need no hints: the client's autoconfig finds them
  if (isIpDomain(host) || imaps !== 993 || submissions !== 465) {
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
