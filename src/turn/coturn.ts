/**
 * A turnserver.conf for Debian's coturn running beside chatrelay: TURN REST
 * credentials from the same shared secret (`use-auth-secret` +
 * `static-auth-secret` = turn_secret), realm = mail domain, UDP/TCP on
 * turn_port, relaying only to public addresses. See docs/turn.md.
 */
import type { Config } from "../config/types.ts";

/** Peer ranges a TURN relay must not reach: private, loopback, link-local, reserved (RFC 6890). */
export const DENIED_PEER_RANGES = [
  "0.0.0.0-0.255.255.255",
  "10.0.0.0-10.255.255.255",
  "100.64.0.0-100.127.255.255",
  "127.0.0.0-127.255.255.255",
  "169.254.0.0-169.254.255.255",
  "172.16.0.0-172.31.255.255",
  "192.0.0.0-192.0.0.255",
  "192.0.2.0-192.0.2.255",
  "192.88.99.0-192.88.99.255",
  "192.168.0.0-192.168.255.255",
  "198.18.0.0-198.19.255.255",
  "198.51.100.0-198.51.100.255",
  "203.0.113.0-203.0.113.255",
  "240.0.0.0-255.255.255.255",
  "::1",
  "64:ff9b::-64:ff9b::ffff:ffff",
  "::ffff:0.0.0.0-::ffff:255.255.255.255",
  "100::-100::ffff:ffff:ffff:ffff",
  "2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
  "2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

export function renderCoturnConfig(config: Config): string {
  const secret = config.turn_secret;
  const lines = [
    "# coturn configuration for chatrelay (calls).",
    "# Credentials are made by chatrelay from turn_secret in chatmail.ini; keep both secrets equal.",
    "# Install: apt-get install coturn; copy to /etc/turnserver.conf; systemctl restart coturn.",
    "",
    `listening-port=${config.turn_port}`,
    "# relay ports (open them in the firewall, UDP)",
    "min-port=49152",
    "max-port=65535",
    "",
    "use-auth-secret",
    secret
      ? `static-auth-secret=${secret}`
      : "# static-auth-secret=  <- set turn_secret in chatmail.ini and put the same value here",
    `realm=${config.mail_domain}`,
    "fingerprint",
    "stale-nonce=600",
    "",
    "# only UDP and TCP on the listening port; chatrelay's clients need no TLS/DTLS TURN",
    "no-tls",
    "no-dtls",
    "no-cli",
    "no-rfc5780",
    "no-software-attribute",
    "no-multicast-peers",
    "# never relay into the host's own or private networks",
    ...DENIED_PEER_RANGES.map((r) => `denied-peer-ip=${r}`),
    "",
    "user-quota=12",
    "total-quota=1200",
    "",
    "syslog",
    "",
  ];
  return lines.join("\n");
}
