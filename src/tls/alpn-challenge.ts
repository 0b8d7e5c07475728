/**
 * ACME TLS-ALPN-01 challenges (RFC 8737) on the 443 listener.
 *
 * The validation server connects with SNI = the name being validated and
 * offers only the ALPN protocol "acme-tls/1" (§3); it must get a self-signed
 * certificate for that name carrying the critical acmeIdentifier extension,
 * and the connection ends after the handshake. Every other handshake keeps
 * the relay's certificate and the normal ALPN routing.
 *
 * Node picks the certificate in the SNI callback, which sees the name but not
 * the ALPN offer. With TLS 1.3 OpenSSL runs the ALPN callback first, so the
 * choice is exact. With TLS 1.2 the SNI callback comes first, and the challenge
 * certificate that acme-client makes (key usage keyCertSign only) cannot
 * complete a TLS 1.2 handshake anyway; so only TLS 1.3 handshakes get it
 * (Let's Encrypt's validator speaks TLS 1.3), a TLS 1.2 "acme-tls/1" offer is
 * refused with no_application_protocol, and no other handshake ever sees a
 * challenge certificate.
 */
import { createSecureContext, type SecureContext, type TLSSocket } from "node:tls";

/** RFC 8737 §6.2: the ALPN protocol id of TLS-ALPN-01 validation. */
export const ALPN_ACME = "acme-tls/1";

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
type AlpnCallback = (arg: { servername: string; protocols: string[] }) => string | undefined;

export class AlpnChallenges {
  private readonly pending = new Map<string, SecureContext>();
  /** Sockets whose ALPN offer was seen before the certificate was chosen (TLS 1.3) and is a pending challenge. */
  private readonly answering = new WeakSet<object>();
  /** Sockets whose certificate was chosen before their ALPN offer was seen (TLS 1.2). */
  private readonly chosen = new WeakSet<object>();

  set(name: string, key: string, cert: string): void {
    this.pending.set(name.toLowerCase(), createSecureContext({ key, cert }));
  }

  delete(name: string): void {
    this.pending.delete(name.toLowerCase());
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * ALPNCallback and SNICallback for a tls.Server; `select` is the listener's
   * own choice among the other protocols. Node calls both with the TLSSocket as `this`.
   */
  serverOptions(select: (offered: readonly string[]) => string | undefined): {
    ALPNCallback: AlpnCallback;
    SNICallback: SniCallback;
  } {
    const self = this;
    return {
      ALPNCallback(this: TLSSocket | undefined, { servername, protocols }) {
        if (!protocols.includes(ALPN_ACME)) return select(protocols);
        const pending = self.pending.has((servername ?? "").toLowerCase());
        // too late to show the challenge certificate (TLS 1.2), or no challenge: no_application_protocol
        if (!pending || !this || self.chosen.has(this)) return undefined;
        self.answering.add(this);
        return ALPN_ACME;
      },
      SNICallback(this: TLSSocket | undefined, servername, cb) {
        if (!this) return cb(null);
        if (self.answering.has(this)) return cb(null, self.pending.get(servername.toLowerCase()));
        self.chosen.add(this);
        cb(null);
      },
    };
  }
}
