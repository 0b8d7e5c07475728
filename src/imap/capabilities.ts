/**
 * CAPABILITY lists (RFC 3501 §7.2.1). Names are exactly as Delta Chat matches
 * them, case-sensitively (chatmail/core src/imap/client.rs): IDLE, ID, METADATA, QUOTA,
 * MOVE, COMPRESS=DEFLATE, XCHATMAIL, XDELTAPUSH.
 */

const BASE = [
  "IMAP4rev1",
  "SASL-IR",
  "ID",
  "ENABLE",
  "IDLE",
  "LITERAL+",
  "NAMESPACE",
  "UNSELECT",
  "UIDPLUS",
  "MOVE",
  "SPECIAL-USE",
  "QUOTA",
  "QUOTA=RES-STORAGE",
  "METADATA",
  "XCHATMAIL",
  "XDELTAPUSH",
];

export interface CapabilityState {
  /** TLS is active (implicit or after STARTTLS). */
  tls: boolean;
  /** The listener offers STARTTLS (port 143 mode). */
  starttls: boolean;
  authenticated: boolean;
  /** COMPRESS=DEFLATE is configured on (config.imap_compress). */
  compressEnabled: boolean;
  /** COMPRESS is already active on this connection (RFC 4978 §3: not advertised again). */
  compressed: boolean;
}

export function capabilities(s: CapabilityState): string[] {
  const caps = [...BASE];
  if (!s.authenticated) {
    if (s.tls) caps.push("AUTH=PLAIN");
    else {
      // RFC 3501 §6.2.3, §7.2.1: no login before TLS on the STARTTLS port.
      if (s.starttls) caps.push("STARTTLS");
      caps.push("LOGINDISABLED");
    }
  }
  if (s.compressEnabled && !s.compressed) caps.push("COMPRESS=DEFLATE");
  return caps;
}

export function capabilityText(s: CapabilityState): string {
  return capabilities(s).join(" ");
}
