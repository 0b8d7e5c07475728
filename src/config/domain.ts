/** The mail domain as it appears in addresses: IPv4 relays use "[a.b.c.d]". */
import { isIP } from "node:net";

export function isIpDomain(mailDomain: string): boolean {
  return isIP(mailDomain) !== 0;
}

/** "example.org" -> "example.org"; "1.2.3.4" -> "[1.2.3.4]". */
export function addressDomain(mailDomain: string): string {
  return isIpDomain(mailDomain) ? `[${mailDomain}]` : mailDomain.toLowerCase();
}

/** True for the relay's own domain part, compared case-insensitively. */
export function isLocalDomain(domain: string, mailDomain: string): boolean {
  return domain.toLowerCase() === addressDomain(mailDomain);
}
