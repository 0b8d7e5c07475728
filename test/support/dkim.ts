// A DKIM key of a test and the DNS that publishes it, kept in memory: every
// TXT lookup answers with the key's record (RFC 6376 §3.6.2.2).

import { type DkimKeyPair, dkimTxtRecord, generateDkimKey } from "../../src/dkim/keys.ts";

export interface TxtResolver {
  resolveTxt(name: string): Promise<string[][]>;
}

/** What verifyAligned answers when no signature verifies. */
export const NO_VALID = { ok: false, code: 554, text: "5.7.1 No valid DKIM signature found" };

/** A fresh key and a resolver that publishes it under every name. */
export async function publishedKey(): Promise<{ key: DkimKeyPair; resolver: TxtResolver }> {
  const key = await generateDkimKey();
  const txt = dkimTxtRecord(key.publicKeyPem);
  return { key, resolver: { resolveTxt: async () => [[txt]] } };
}
