/** The relay's DKIM signer (own domain, selector from config) and verifier (via DNS). */
import { isIpDomain } from "../config/domain.ts";
import type { Config } from "../config/types.ts";
import { DkimKeyCache } from "../dkim/key-cache.ts";
import { loadOrCreateDkimKey } from "../dkim/keys.ts";
import { dkimKeyPath } from "../dkim/path.ts";
import { signMessage } from "../dkim/sign.ts";
import { verifyAligned } from "../dkim/verify.ts";
import { createResolver } from "../dns/resolver.ts";
import type { DkimSigner, DkimVerifier } from "./pipeline.ts";

/** IP relays sign nothing (docs/reference-relay.md §4: "no DKIM"); others load or create their key. */
export async function createSigner(config: Config): Promise<DkimSigner | null> {
  if (isIpDomain(config.mail_domain)) return null;
  const { privateKeyPem } = await loadOrCreateDkimKey(dkimKeyPath(config));
  const opts = { domain: config.mail_domain, selector: config.dkim_selector, privateKeyPem };
  return { sign: (m: Buffer) => signMessage(m, opts) };
}

/**
 * Like filtermail: DNS TXT lookups with a 60 s timeout and an LRU of 1000
 * selectors, an entry dropped when verification with it fails.
 */
export function createVerifier(config: Config): DkimVerifier {
  const keys = new DkimKeyCache(createResolver(config.dns_servers, { timeoutMs: 60_000 }));
  return { verify: (m: Buffer, fromDomain: string) => verifyAligned(m, fromDomain, keys) };
}
